// A Prometheus histogram with fixed bucket bounds: thread-safe Observe, and the text exposition
// lines (_bucket with cumulative counts and le="+Inf", _sum, _count).
#pragma once

#include <cstdint>
#include <string>
#include <vector>
#include "absl/strings/string_view.h"

#include "absl/synchronization/mutex.h"

namespace stride::server::metrics {

class Histogram {
 public:
  // `bounds` must be increasing; values above the last land in +Inf only.
  explicit Histogram(std::vector<double> bounds);

  void Observe(double value);

  // Appends the sample lines of metric `name`; `labels` is either empty or `key="value",...`
  // (without braces), put before `le`.
  void Render(absl::string_view name, absl::string_view labels, std::string* out) const;

  int64_t count() const;
  double sum() const;

 private:
  const std::vector<double> bounds_;
  mutable absl::Mutex mutex_;
  std::vector<int64_t> counts_ ABSL_GUARDED_BY(mutex_);  // per bucket, not cumulative; +Inf last
  double sum_ ABSL_GUARDED_BY(mutex_) = 0;
  int64_t count_ ABSL_GUARDED_BY(mutex_) = 0;
};

// A number the way the exposition format reads it ("+Inf", "NaN", or up to 17 digits).
std::string FormatMetricValue(double value);

}  // namespace stride::server::metrics
