#include "server/loadgen/slo.h"

#include "gtest/gtest.h"

namespace stride::server::loadgen {
namespace {

TEST(SloTest, ParsesSubsets) {
  auto slo = ParseSlo("ttft:250,tpot:100");
  ASSERT_TRUE(slo.ok()) << slo.status();
  EXPECT_EQ(slo->ttft_ms, 250);
  EXPECT_EQ(slo->tpot_ms, 100);
  EXPECT_FALSE(slo->e2el_ms.has_value());
  EXPECT_EQ(SloToString(*slo), "ttft:250,tpot:100");
  auto empty = ParseSlo("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  auto e2el = ParseSlo("e2el:1500.5");
  ASSERT_TRUE(e2el.ok());
  EXPECT_EQ(e2el->e2el_ms, 1500.5);
}

TEST(SloTest, RejectsBadSpecs) {
  EXPECT_FALSE(ParseSlo("ttft").ok());
  EXPECT_FALSE(ParseSlo("ttft:abc").ok());
  EXPECT_FALSE(ParseSlo("latency:5").ok());
  EXPECT_FALSE(ParseSlo("ttft:5,ttft:6").ok());
  EXPECT_FALSE(ParseSlo("tpot:0").ok());
  EXPECT_FALSE(ParseSlo("tpot:-3").ok());
  EXPECT_FALSE(ParseSlo("tpot:inf").ok());
}

TEST(SloTest, ParsesCapacityTargets) {
  auto tbt = ParseCapacityTarget("p99-tbt:100");
  ASSERT_TRUE(tbt.ok());
  EXPECT_EQ(tbt->kind, CapacityTarget::Kind::kP99Tbt);
  EXPECT_EQ(tbt->value, 100);
  auto goodput = ParseCapacityTarget("goodput:0.9");
  ASSERT_TRUE(goodput.ok());
  EXPECT_EQ(goodput->kind, CapacityTarget::Kind::kGoodput);
  EXPECT_EQ(goodput->value, 0.9);
  EXPECT_EQ(CapacityTargetToString(*goodput), "goodput:0.9");
  EXPECT_FALSE(ParseCapacityTarget("goodput:1.5").ok());
  EXPECT_FALSE(ParseCapacityTarget("goodput:0").ok());
  EXPECT_FALSE(ParseCapacityTarget("p50-tbt:10").ok());
  EXPECT_FALSE(ParseCapacityTarget("p99-tbt").ok());
}

}  // namespace
}  // namespace stride::server::loadgen
