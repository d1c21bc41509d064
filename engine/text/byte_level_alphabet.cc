#include "engine/text/byte_level_alphabet.h"

#include <vector>

#include "engine/text/utf8.h"

namespace stride::engine::text {
namespace {

// Code point per byte: printable Latin-1 bytes map to themselves, the other 68 bytes to 256 + n
// in byte order.
std::array<char32_t, 256> BuildCodePoints() {
  std::array<char32_t, 256> cps{};
  const auto printable = [](int b) {
    return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
  };
  char32_t next = 256;
  for (int b = 0; b < 256; ++b) cps[b] = printable(b) ? static_cast<char32_t>(b) : next++;
  return cps;
}

struct Tables {
  std::array<std::string, 256> chars;
  std::vector<int> byte_of;  // indexed by code point
};

const Tables& GetTables() {
  static const Tables* tables = [] {
    auto* t = new Tables;
    const std::array<char32_t, 256> cps = BuildCodePoints();
    t->byte_of.assign(512, -1);
    for (int b = 0; b < 256; ++b) {
      AppendUtf8(cps[b], &t->chars[b]);
      t->byte_of[cps[b]] = b;
    }
    return t;
  }();
  return *tables;
}

}  // namespace

const std::array<std::string, 256>& ByteLevelChars() { return GetTables().chars; }

int ByteLevelByte(char32_t cp) {
  const std::vector<int>& byte_of = GetTables().byte_of;
  return cp < byte_of.size() ? byte_of[cp] : -1;
}

}  // namespace stride::engine::text
