#include "engine/request_stream.h"

#include <utility>

namespace stride::engine {

bool RequestStream::Next(RequestOutput* out) {
  absl::MutexLock lock(&mutex_);
  mutex_.Await(absl::Condition(
      +[](RequestStream* s) ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return !s->queue_.empty() || s->num_open_ == 0;
      },
      this));
  if (queue_.empty()) return false;
  *out = std::move(queue_.front());
  queue_.pop_front();
  return true;
}

bool RequestStream::NextWithTimeout(RequestOutput* out, absl::Duration timeout) {
  absl::MutexLock lock(&mutex_);
  mutex_.AwaitWithTimeout(absl::Condition(
                              +[](RequestStream* s) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                                return !s->queue_.empty() || s->num_open_ == 0;
                              },
                              this),
                          timeout);
  if (queue_.empty()) return false;
  *out = std::move(queue_.front());
  queue_.pop_front();
  return true;
}

bool RequestStream::finished() const {
  absl::MutexLock lock(&mutex_);
  return DrainedLocked();
}

void RequestStream::SetNotifier(std::function<void()> notifier) {
  absl::MutexLock lock(&mutex_);
  notifier_ = std::move(notifier);
}

void RequestStream::Push(RequestOutput output) {
  std::function<void()> notify;
  {
    absl::MutexLock lock(&mutex_);
    if (output.finish_reason != FinishReason::kNone && num_open_ > 0) --num_open_;
    queue_.push_back(std::move(output));
    notify = notifier_;
  }
  if (notify) notify();
}

}  // namespace stride::engine
