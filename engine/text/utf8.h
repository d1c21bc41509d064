// UTF-8 helpers for the tokenizer: validation, code point iteration and the lossy conversion that
// HuggingFace decoders use (Rust's String::from_utf8_lossy). Used by engine/text only.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace stride::engine::text {

inline constexpr char kReplacementChar[] = "\xEF\xBF\xBD";  // U+FFFD

// Length of the well-formed character starting at s[pos], or 0 when the bytes there are not one.
// When 0, *invalid_len (if given) is the length of the maximal invalid subpart to replace (>= 1).
size_t Utf8CharLength(std::string_view s, size_t pos, size_t* invalid_len = nullptr);

// True when every byte of `s` belongs to a well-formed UTF-8 character.
bool IsValidUtf8(std::string_view s);

// Decodes the character at s[*pos] (which must be well-formed) and advances *pos past it.
char32_t DecodeUtf8(std::string_view s, size_t* pos);

// Appends the UTF-8 encoding of `cp` to `out`.
void AppendUtf8(char32_t cp, std::string* out);

// Replaces each maximal invalid subpart with U+FFFD, exactly as Rust's from_utf8_lossy does.
std::string Utf8Lossy(std::string_view bytes);

// True when `s` ends with U+FFFD (held back by the incremental detokenizer: it may still change).
bool EndsWithReplacementChar(std::string_view s);

}  // namespace stride::engine::text
