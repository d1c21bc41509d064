// Tests engine/model/safetensors.h and safetensors_header.h: valid files read back exactly, and
// every malformed header is an error naming the file and the tensor.
#include "engine/model/safetensors.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "engine/model/safetensors_header.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/engine/model/safetensors_writer.h"

namespace stride::engine::model {
namespace {

using testing::BuildSafetensors;
using ::testing::ElementsAre;
using testing::F32Bytes;
using ::testing::HasSubstr;
using testing::RawSafetensors;
using testing::TempDir;
using testing::TestTensor;
using testing::U16Bytes;
using testing::WriteFile;

std::vector<float> Read(const TensorView& view) {
  std::vector<float> out(view.numel());
  ToFloat32(view, out.data());
  return out;
}

TEST(SafetensorsFileTest, ReadsEveryFloatDtypeExactly) {
  TempDir dir;
  // bf16: 1.0, -2.5, 0.1015625 (0x3dd0), +inf.  fp16: 1.0, -2.0, 65504, 2^-24 (subnormal),
  // 0.333251953125 (0x3555).
  const std::vector<TestTensor> tensors = {
      {"a.f32", "F32", {2, 3}, F32Bytes({1.0f, -0.5f, 3.25f, 1e-30f, -7.0f, 123456.789f})},
      {"b.bf16", "BF16", {4}, U16Bytes({0x3f80, 0xc020, 0x3dd0, 0x7f80})},
      {"c.f16", "F16", {5, 1}, U16Bytes({0x3c00, 0xc000, 0x7bff, 0x0001, 0x3555})},
      {"d.empty", "F32", {0, 4}, ""},
  };
  WriteFile(dir.path() / "m.safetensors",
            BuildSafetensors(tensors, R"({"format":"pt","note":"x"})"));

  absl::StatusOr<std::unique_ptr<SafetensorsFile>> file =
      SafetensorsFile::Open(dir.file("m.safetensors"));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ((*file)->header().tensors.size(), 4u);
  EXPECT_EQ((*file)->header().data_offset % 8, 0u);

  absl::StatusOr<TensorView> a = (*file)->Tensor("a.f32");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->dtype, DType::kF32);
  EXPECT_THAT(a->shape, ElementsAre(2, 3));
  EXPECT_THAT(Read(*a), ElementsAre(1.0f, -0.5f, 3.25f, 1e-30f, -7.0f, 123456.789f));

  absl::StatusOr<TensorView> b = (*file)->Tensor("b.bf16");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->dtype, DType::kBF16);
  EXPECT_THAT(Read(*b),
              ElementsAre(1.0f, -2.5f, 0.1015625f, std::numeric_limits<float>::infinity()));

  absl::StatusOr<TensorView> c = (*file)->Tensor("c.f16");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->dtype, DType::kF16);
  EXPECT_THAT(c->shape, ElementsAre(5, 1));
  EXPECT_THAT(Read(*c), ElementsAre(1.0f, -2.0f, 65504.0f, std::ldexp(1.0f, -24), 0.333251953125f));

  absl::StatusOr<TensorView> d = (*file)->Tensor("d.empty");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE(d->present());
  EXPECT_EQ(d->numel(), 0);
}

TEST(SafetensorsFileTest, AbsentTensorIsNotFound) {
  TempDir dir;
  WriteFile(dir.path() / "m.safetensors", BuildSafetensors({{"x", "F32", {1}, F32Bytes({1.0f})}}));
  auto file = SafetensorsFile::Open(dir.file("m.safetensors"));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ((*file)->Find("y"), nullptr);
  absl::StatusOr<TensorView> y = (*file)->Tensor("y");
  EXPECT_EQ(y.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(y.status().message()), HasSubstr("m.safetensors"));
  EXPECT_THAT(std::string(y.status().message()), HasSubstr("'y'"));
}

TEST(SafetensorsFileTest, OtherDtypesParseButCannotBeViewed) {
  TempDir dir;
  WriteFile(dir.path() / "m.safetensors",
            BuildSafetensors(
                {{"ids", "I64", {2}, std::string(16, '\0')}, {"w", "F32", {1}, F32Bytes({2.0f})}}));
  auto file = SafetensorsFile::Open(dir.file("m.safetensors"));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_TRUE((*file)->Tensor("w").ok());
  absl::StatusOr<TensorView> ids = (*file)->Tensor("ids");
  EXPECT_EQ(ids.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(ids.status().message()), HasSubstr("I64"));
  EXPECT_THAT(std::string(ids.status().message()), HasSubstr("'ids'"));
  EXPECT_THAT(std::string(ids.status().message()), HasSubstr("m.safetensors"));
}

TEST(SafetensorsFileTest, MissingFileAndDirectory) {
  TempDir dir;
  auto missing = SafetensorsFile::Open(dir.file("nope.safetensors"));
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("nope.safetensors"));
  auto directory = SafetensorsFile::Open(dir.path().string());
  ASSERT_FALSE(directory.ok());
  EXPECT_THAT(std::string(directory.status().message()), HasSubstr("not a regular file"));
}

// ---- malformed files: each case is written to disk and opened ----

struct MalformedCase {
  const char* label;
  std::string bytes;
  const char* tensor;    // the tensor the message must name, or "" for file-level problems
  const char* expected;  // a further substring of the message
};

std::string Header(const std::string& json, size_t data_bytes) {
  return RawSafetensors(json, std::string(data_bytes, '\x11'));
}

std::string WithLength(uint64_t length, const std::string& rest) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((length >> (8 * i)) & 0xff);
  return out + rest;
}

std::vector<MalformedCase> MalformedCases() {
  return {
      {"empty_file", "", "", "file is 0 bytes, shorter"},
      {"five_bytes", std::string("\x02\0\0\0\0", 5), "", "file is 5 bytes, shorter"},
      {"length_past_end", WithLength(100, "{}"), "", "runs past the end"},
      {"length_absurd", WithLength(uint64_t{1} << 60, "{}"), "", "exceeds the limit"},
      {"not_json", Header("{\"a\": [1,", 0), "", "not valid JSON"},
      {"not_object", Header("[1, 2, 3]", 0), "", "not a JSON object"},
      {"metadata_not_object", Header(R"({"__metadata__": 3})", 0), "", "__metadata__"},
      {"entry_not_object", Header(R"({"w": 3})", 0), "w", "not a JSON object"},
      {"missing_dtype", Header(R"({"w": {"shape": [1], "data_offsets": [0, 4]}})", 4), "w",
       "dtype"},
      {"unknown_dtype",
       Header(R"({"w": {"dtype": "Q4_K", "shape": [1], "data_offsets": [0, 4]}})", 4), "w", "Q4_K"},
      {"shape_not_list",
       Header(R"({"w": {"dtype": "F32", "shape": "2x2", "data_offsets": [0, 16]}})", 16), "w",
       "shape"},
      {"shape_negative",
       Header(R"({"w": {"dtype": "F32", "shape": [-1, 4], "data_offsets": [0, 16]}})", 16), "w",
       "non-negative"},
      {"shape_float",
       Header(R"({"w": {"dtype": "F32", "shape": [2.5], "data_offsets": [0, 10]}})", 10), "w",
       "non-negative integers"},
      {"offsets_one_value",
       Header(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [4]}})", 4), "w",
       "data_offsets"},
      {"offsets_reversed",
       Header(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [8, 4]}})", 8), "w",
       "begin <= end"},
      {"offsets_negative",
       Header(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]}})", 8), "w",
       "data_offsets"},
      {"end_past_data",
       Header(R"({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})", 12), "w",
       "past the end of the data section"},
      {"size_mismatch",
       Header(R"({"w": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 8]}})", 8), "w",
       "does not match shape"},
      {"numel_overflow",
       Header(
           R"({"w": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 0]}})",
           0),
       "w", "does not match shape"},
      {"overlap",
       Header(R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                  "b": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}})",
              16),
       "b", "overlap tensor 'a'"},
  };
}

class SafetensorsMalformedTest : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(SafetensorsMalformedTest, ErrorNamesFileAndTensor) {
  const MalformedCase& c = GetParam();
  TempDir dir;
  const std::string name = std::string(c.label) + ".safetensors";
  WriteFile(dir.path() / name, c.bytes);
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> file = SafetensorsFile::Open(dir.file(name));
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument) << file.status();
  const std::string message(file.status().message());
  EXPECT_THAT(message, HasSubstr(dir.file(name)));
  if (*c.tensor != '\0') {
    EXPECT_THAT(message, HasSubstr(std::string("tensor '") + c.tensor + "'"));
  }
  EXPECT_THAT(message, HasSubstr(c.expected));

  // The pure parser says the same thing about the same bytes.
  absl::StatusOr<SafetensorsHeader> parsed =
      ParseSafetensorsHeader(c.bytes, c.bytes.size(), "label");
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(std::string(parsed.status().message()), HasSubstr(c.expected));
}

INSTANTIATE_TEST_SUITE_P(Malformed, SafetensorsMalformedTest, ::testing::ValuesIn(MalformedCases()),
                         [](const ::testing::TestParamInfo<MalformedCase>& info) {
                           return std::string(info.param.label);
                         });

TEST(SafetensorsHeaderTest, TouchingAndEmptyTensorsDoNotOverlap) {
  const std::string bytes = Header(
      R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
          "e": {"dtype": "F16", "shape": [0], "data_offsets": [4, 4]},
          "b": {"dtype": "BF16", "shape": [4], "data_offsets": [8, 16]}})",
      16);
  absl::StatusOr<SafetensorsHeader> header = ParseSafetensorsHeader(bytes, bytes.size(), "f");
  ASSERT_TRUE(header.ok()) << header.status();
  ASSERT_EQ(header->tensors.size(), 3u);
  EXPECT_EQ(header->tensors[0].name, "a");  // sorted by position
  EXPECT_EQ(header->tensors[2].name, "b");
  EXPECT_EQ(header->data_size, 16u);
}

TEST(SafetensorsHeaderTest, TruncatedBufferIsAnErrorNotARead) {
  const std::string bytes =
      Header(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})", 4);
  // Claim the file is whole but hand over only part of the header.
  absl::StatusOr<SafetensorsHeader> header =
      ParseSafetensorsHeader(std::string_view(bytes).substr(0, 20), bytes.size(), "f");
  ASSERT_FALSE(header.ok());
  EXPECT_THAT(std::string(header.status().message()), HasSubstr("bytes given"));
}

}  // namespace
}  // namespace stride::engine::model
