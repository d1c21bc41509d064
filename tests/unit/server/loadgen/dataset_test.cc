#include "server/loadgen/dataset.h"

#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace stride::server::loadgen {
namespace {

TEST(RandomDatasetTest, LengthsWithinRangeAndIdsWithinVocab) {
  RandomDatasetOptions options;
  options.num_prompts = 2000;
  options.input_len = 100;
  options.output_len = 10;
  options.range_ratio = 0.5;
  options.vocab_size = 50;
  options.seed = 3;
  auto requests = RandomDataset(options);
  ASSERT_TRUE(requests.ok()) << requests.status();
  ASSERT_EQ(requests->size(), 2000u);
  int64_t min_in = 1 << 30, max_in = 0, min_out = 1 << 30, max_out = 0;
  double sum_in = 0;
  for (const BenchRequest& r : *requests) {
    EXPECT_EQ(static_cast<int64_t>(r.prompt_ids.size()), r.input_len);
    EXPECT_TRUE(r.prompt_text.empty());
    for (int32_t id : r.prompt_ids) ASSERT_TRUE(id >= 0 && id < 50) << id;
    min_in = std::min(min_in, r.input_len);
    max_in = std::max(max_in, r.input_len);
    min_out = std::min<int64_t>(min_out, r.output_len);
    max_out = std::max<int64_t>(max_out, r.output_len);
    sum_in += r.input_len;
  }
  // Uniform integers in [50, 150] and [5, 15]: 2000 draws reach both ends.
  EXPECT_EQ(min_in, 50);
  EXPECT_EQ(max_in, 150);
  EXPECT_EQ(min_out, 5);
  EXPECT_EQ(max_out, 15);
  EXPECT_NEAR(sum_in / 2000, 100, 3);
}

TEST(RandomDatasetTest, ZeroRangeIsExactAndSeedDeterministic) {
  RandomDatasetOptions options;
  options.num_prompts = 10;
  options.input_len = 7;
  options.output_len = 3;
  auto a = RandomDataset(options);
  auto b = RandomDataset(options);
  options.seed = 1;
  auto c = RandomDataset(options);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  for (size_t i = 0; i < a->size(); ++i) {
    EXPECT_EQ((*a)[i].input_len, 7);
    EXPECT_EQ((*a)[i].output_len, 3);
    EXPECT_EQ((*a)[i].prompt_ids, (*b)[i].prompt_ids);
  }
  EXPECT_NE((*a)[0].prompt_ids, (*c)[0].prompt_ids);
}

TEST(RandomDatasetTest, RejectsBadOptions) {
  RandomDatasetOptions options;
  options.range_ratio = 1.0;
  EXPECT_FALSE(RandomDataset(options).ok());
  options.range_ratio = 0;
  options.input_len = 0;
  EXPECT_FALSE(RandomDataset(options).ok());
  options.input_len = 5;
  options.num_prompts = 0;
  EXPECT_FALSE(RandomDataset(options).ok());
}

TEST(ShareGptLikeDatasetTest, FilteredLengthsWithShareGptLikeMeans) {
  auto requests = ShareGptLikeDataset(20000, 32000, 11);
  ASSERT_TRUE(requests.ok());
  double sum_in = 0, sum_out = 0;
  for (const BenchRequest& r : *requests) {
    ASSERT_GE(r.input_len, 4);
    ASSERT_LE(r.input_len, 1024);
    ASSERT_GE(r.output_len, 4);
    ASSERT_LE(r.input_len + r.output_len, 2048);
    ASSERT_EQ(static_cast<int64_t>(r.prompt_ids.size()), r.input_len);
  }
  for (const BenchRequest& r : *requests) {
    sum_in += r.input_len;
    sum_out += r.output_len;
  }
  // The fit's filtered means are about 213 and 204 tokens.
  EXPECT_NEAR(sum_in / requests->size(), 213, 12);
  EXPECT_NEAR(sum_out / requests->size(), 204, 12);
}

TEST(JsonlDatasetTest, ParsesTextAndIdsAndCycles) {
  const std::string text =
      "{\"prompt\": \"hello there\", \"output_len\": 5}\n"
      "\n"
      "{\"prompt_ids\": [1, 2, 3]}\n";
  auto requests = ParseJsonlDataset(text, "mem", 5, 9);
  ASSERT_TRUE(requests.ok()) << requests.status();
  ASSERT_EQ(requests->size(), 5u);
  EXPECT_EQ((*requests)[0].prompt_text, "hello there");
  EXPECT_EQ((*requests)[0].input_len, 0);
  EXPECT_EQ((*requests)[0].output_len, 5);
  EXPECT_EQ((*requests)[1].prompt_ids, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ((*requests)[1].input_len, 3);
  EXPECT_EQ((*requests)[1].output_len, 9);
  EXPECT_EQ((*requests)[4].prompt_text, "hello there");
}

TEST(JsonlDatasetTest, ErrorsNameTheLine) {
  auto bad_json = ParseJsonlDataset("{\"prompt\": \"a\"}\nnot json\n", "f.jsonl", 1, 4);
  ASSERT_FALSE(bad_json.ok());
  EXPECT_NE(bad_json.status().message().find("f.jsonl:2"), std::string::npos);
  EXPECT_FALSE(ParseJsonlDataset("{\"output_len\": 3}\n", "f", 1, 4).ok());
  EXPECT_FALSE(ParseJsonlDataset("{\"prompt_ids\": [-1]}\n", "f", 1, 4).ok());
  EXPECT_FALSE(ParseJsonlDataset("{\"prompt\": \"a\", \"output_len\": 0}\n", "f", 1, 4).ok());
  EXPECT_FALSE(ParseJsonlDataset("\n", "f", 1, 4).ok());
  EXPECT_FALSE(LoadJsonlDataset("/nonexistent/file.jsonl", 1, 4).ok());
}

}  // namespace
}  // namespace stride::server::loadgen
