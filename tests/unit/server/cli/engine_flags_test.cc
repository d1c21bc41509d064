// --async-scheduling's spellings (bare, negated, valued) and its three values: unset unless
// given, so CreateEngine picks the backend's default (on for CUDA, off for the CPU).
#include "server/cli/engine_flags.h"

#include "absl/flags/flag.h"
#include "gtest/gtest.h"

ABSL_DECLARE_FLAG(std::string, async_scheduling);

namespace stride::server::cli {
namespace {

TEST(SpellOutEngineFlag, BareAndNegatedFormsBecomeValues) {
  EXPECT_EQ(SpellOutEngineFlag("--async_scheduling"), "--async_scheduling=true");
  EXPECT_EQ(SpellOutEngineFlag("--noasync_scheduling"), "--async_scheduling=false");
  EXPECT_EQ(SpellOutEngineFlag("--no_async_scheduling"), "--async_scheduling=false");
  EXPECT_EQ(SpellOutEngineFlag("--async_scheduling=auto"), "--async_scheduling=auto");
  EXPECT_EQ(SpellOutEngineFlag("--async_scheduling_x"), "--async_scheduling_x");
  EXPECT_EQ(SpellOutEngineFlag("--model"), "--model");
}

TEST(EngineOptionsFromFlags, AsyncSchedulingIsUnsetTrueOrFalse) {
  const std::string saved = absl::GetFlag(FLAGS_async_scheduling);
  absl::SetFlag(&FLAGS_async_scheduling, "auto");
  absl::StatusOr<engine::EngineOptions> options = EngineOptionsFromFlags();
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_FALSE(options->async_scheduling.has_value());
  for (auto [value, expected] :
       {std::pair{"true", true}, {"1", true}, {"false", false}, {"0", false}}) {
    absl::SetFlag(&FLAGS_async_scheduling, value);
    options = EngineOptionsFromFlags();
    ASSERT_TRUE(options.ok()) << value << ": " << options.status();
    ASSERT_TRUE(options->async_scheduling.has_value()) << value;
    EXPECT_EQ(*options->async_scheduling, expected) << value;
  }
  absl::SetFlag(&FLAGS_async_scheduling, "sometimes");
  options = EngineOptionsFromFlags();
  EXPECT_FALSE(options.ok());
  EXPECT_NE(options.status().message().find("--async-scheduling must be auto, true or false"),
            std::string::npos)
      << options.status();
  absl::SetFlag(&FLAGS_async_scheduling, saved);
}

}  // namespace
}  // namespace stride::server::cli
