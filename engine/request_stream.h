// The per-request channel from the engine loop to a front end. The loop pushes deltas; the
// front end pops them (blocking, or polling after a notification). Thread-safe.
#pragma once

#include <deque>
#include <functional>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/request.h"

namespace stride::engine {

class RequestStream {
 public:
  RequestStream(uint64_t id, int num_sequences) : id_(id), num_open_(num_sequences) {}

  uint64_t id() const { return id_; }

  // Blocks until a delta is available (true) or every sequence has finished and all deltas were
  // taken (false).
  bool Next(RequestOutput* out);
  // Like Next without blocking past `timeout`; false also on timeout (check finished()).
  bool NextWithTimeout(RequestOutput* out, absl::Duration timeout);
  // All sequences finished and every delta taken.
  bool finished() const;
  // Called (on the engine thread, without the lock) after each push; for async front ends.
  void SetNotifier(std::function<void()> notifier);

  // Engine side.
  void Push(RequestOutput output);

 private:
  bool DrainedLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    return num_open_ == 0 && queue_.empty();
  }

  const uint64_t id_;
  mutable absl::Mutex mutex_;
  std::deque<RequestOutput> queue_ ABSL_GUARDED_BY(mutex_);
  int num_open_ ABSL_GUARDED_BY(mutex_);
  std::function<void()> notifier_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace stride::engine
