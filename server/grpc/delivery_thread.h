// One thread that runs small tasks in order: where the engine's per-token notifications are
// turned into gRPC messages (detokenization, serialization), so the engine loop only enqueues.
// One per GrpcServer, shared by every call; write completions continue on gRPC's own threads.
#pragma once

#include <deque>
#include <functional>
#include <thread>

#include "absl/synchronization/mutex.h"

namespace stride::server::grpc {

class DeliveryThread {
 public:
  DeliveryThread();
  ~DeliveryThread();  // runs what is queued, then joins
  DeliveryThread(const DeliveryThread&) = delete;
  DeliveryThread& operator=(const DeliveryThread&) = delete;

  // Never blocks for long: safe on the engine thread.
  void Post(std::function<void()> task);

 private:
  void Loop();

  absl::Mutex mutex_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mutex_);
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  std::thread thread_;
};

}  // namespace stride::server::grpc
