#include "server/loadgen/slo.h"

#include <cmath>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace stride::server::loadgen {
namespace {

absl::StatusOr<std::pair<std::string, double>> KeyValue(absl::string_view item,
                                                        absl::string_view what) {
  std::vector<absl::string_view> parts = absl::StrSplit(item, ':');
  double value = 0;
  if (parts.size() != 2 || !absl::SimpleAtod(parts[1], &value) || !std::isfinite(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": expected KEY:NUMBER, got \"", item, "\""));
  }
  return std::make_pair(std::string(absl::StripAsciiWhitespace(parts[0])), value);
}

}  // namespace

absl::StatusOr<SloConfig> ParseSlo(absl::string_view text) {
  SloConfig slo;
  if (absl::StripAsciiWhitespace(text).empty()) return slo;
  for (absl::string_view item : absl::StrSplit(text, ',')) {
    absl::StatusOr<std::pair<std::string, double>> kv = KeyValue(item, "--slo");
    if (!kv.ok()) return kv.status();
    const auto& [key, value] = *kv;
    std::optional<double>* field = key == "ttft"   ? &slo.ttft_ms
                                   : key == "tpot" ? &slo.tpot_ms
                                   : key == "e2el" ? &slo.e2el_ms
                                                   : nullptr;
    if (field == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("--slo: unknown metric \"", key, "\" (ttft, tpot or e2el)"));
    }
    if (field->has_value()) {
      return absl::InvalidArgumentError(absl::StrCat("--slo: ", key, " given twice"));
    }
    if (!(value > 0)) {
      return absl::InvalidArgumentError(absl::StrCat("--slo: ", key, " must be > 0 ms"));
    }
    *field = value;
  }
  return slo;
}

std::string SloToString(const SloConfig& slo) {
  std::vector<std::string> parts;
  if (slo.ttft_ms) parts.push_back(absl::StrCat("ttft:", *slo.ttft_ms));
  if (slo.tpot_ms) parts.push_back(absl::StrCat("tpot:", *slo.tpot_ms));
  if (slo.e2el_ms) parts.push_back(absl::StrCat("e2el:", *slo.e2el_ms));
  return absl::StrJoin(parts, ",");
}

absl::StatusOr<CapacityTarget> ParseCapacityTarget(absl::string_view text) {
  absl::StatusOr<std::pair<std::string, double>> kv = KeyValue(text, "--target");
  if (!kv.ok()) return kv.status();
  const auto& [key, value] = *kv;
  CapacityTarget target;
  target.value = value;
  if (key == "p99-tbt" || key == "p99_tbt") {
    target.kind = CapacityTarget::Kind::kP99Tbt;
    if (!(value > 0)) return absl::InvalidArgumentError("--target p99-tbt must be > 0 ms");
  } else if (key == "goodput") {
    target.kind = CapacityTarget::Kind::kGoodput;
    if (!(value > 0 && value <= 1)) {
      return absl::InvalidArgumentError("--target goodput must be a fraction in (0, 1]");
    }
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--target: unknown kind \"", key, "\" (p99-tbt:MS or goodput:FRACTION)"));
  }
  return target;
}

std::string CapacityTargetToString(const CapacityTarget& target) {
  if (target.kind == CapacityTarget::Kind::kGoodput) return absl::StrCat("goodput:", target.value);
  std::string text = absl::StrCat("p99-tbt:", target.value);
  if (target.max_median_ttft_ms > 0) {
    absl::StrAppend(&text, " (median TTFT <= ", target.max_median_ttft_ms, " ms)");
  }
  return text;
}

}  // namespace stride::server::loadgen
