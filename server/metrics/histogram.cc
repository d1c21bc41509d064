#include "server/metrics/histogram.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace stride::server::metrics {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::Observe(double value) {
  const size_t bucket =
      std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();  // le: v <= b
  absl::MutexLock lock(&mutex_);
  ++counts_[bucket];
  sum_ += value;
  ++count_;
}

int64_t Histogram::count() const {
  absl::MutexLock lock(&mutex_);
  return count_;
}

double Histogram::sum() const {
  absl::MutexLock lock(&mutex_);
  return sum_;
}

std::string FormatMetricValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  // The shortest text that reads back as the same double.
  std::string text;
  for (int precision = 6; precision <= 17; ++precision) {
    text = absl::StrFormat("%.*g", precision, value);
    if (std::strtod(text.c_str(), nullptr) == value) break;
  }
  return text;
}

void Histogram::Render(absl::string_view name, absl::string_view labels, std::string* out) const {
  std::vector<int64_t> counts;
  double sum = 0;
  int64_t count = 0;
  {
    absl::MutexLock lock(&mutex_);
    counts = counts_;
    sum = sum_;
    count = count_;
  }
  const std::string prefix = labels.empty() ? "" : absl::StrCat(labels, ",");
  int64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += counts[i];
    const std::string le = i < bounds_.size() ? FormatMetricValue(bounds_[i]) : "+Inf";
    absl::StrAppend(out, name, "_bucket{", prefix, "le=\"", le, "\"} ", cumulative, "\n");
  }
  const std::string braces = labels.empty() ? "" : absl::StrCat("{", labels, "}");
  absl::StrAppend(out, name, "_sum", braces, " ", FormatMetricValue(sum), "\n");
  absl::StrAppend(out, name, "_count", braces, " ", count, "\n");
}

}  // namespace stride::server::metrics
