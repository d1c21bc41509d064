// Process-wide logging set-up (spdlog). Call InitLogging once from main; tests need not.
#pragma once

#include <string_view>

#include "spdlog/spdlog.h"

namespace stride::base {

// level: "trace", "debug", "info", "warn", "error" or "off". Logs go to stderr.
void InitLogging(std::string_view level);

}  // namespace stride::base
