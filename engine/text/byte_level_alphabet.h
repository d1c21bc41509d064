// GPT-2's reversible map between bytes and printable characters ("byte-level" BPE): every byte
// becomes one visible character, so vocabularies never hold raw control bytes or spaces ('Ġ' is
// the space). Shared by the ByteLevel pre-tokenizer and the ByteLevel decoder.
#pragma once

#include <array>
#include <string>

namespace stride::engine::text {

// UTF-8 text of the character that stands for each byte.
const std::array<std::string, 256>& ByteLevelChars();

// The byte a character stands for, or -1 when `cp` is not in the alphabet.
int ByteLevelByte(char32_t cp);

}  // namespace stride::engine::text
