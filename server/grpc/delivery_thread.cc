#include "server/grpc/delivery_thread.h"

#include <utility>

namespace stride::server::grpc {

DeliveryThread::DeliveryThread() : thread_([this] { Loop(); }) {}

DeliveryThread::~DeliveryThread() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
  }
  thread_.join();
}

void DeliveryThread::Post(std::function<void()> task) {
  absl::MutexLock lock(&mutex_);
  tasks_.push_back(std::move(task));
}

void DeliveryThread::Loop() {
  while (true) {
    std::deque<std::function<void()>> batch;
    {
      absl::MutexLock lock(&mutex_);
      mutex_.Await(absl::Condition(
          +[](DeliveryThread* d)
               ABSL_NO_THREAD_SAFETY_ANALYSIS { return d->stopping_ || !d->tasks_.empty(); },
          this));
      if (tasks_.empty()) return;  // stopping and drained
      batch.swap(tasks_);
    }
    for (std::function<void()>& task : batch) task();
  }
}

}  // namespace stride::server::grpc
