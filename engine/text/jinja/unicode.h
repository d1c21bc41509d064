// Python-compatible code point helpers for the Jinja interpreter: Python strings index, slice,
// strip and case-map by code point, so the template's string operations need the same view of
// UTF-8 text. Bytes that are not well-formed UTF-8 (possible in template literals) round-trip as
// lone surrogates U+DC80..U+DCFF, like Python's "surrogateescape".
#pragma once

#include <string>
#include <string_view>

namespace stride::engine::text::jinja {

// Decodes UTF-8 into code points (invalid bytes become U+DC80 + byte).
std::u32string DecodeCodepoints(std::string_view s);

// Encodes code points back to UTF-8 (U+DC80..U+DCFF become their raw byte).
std::string EncodeCodepoints(std::u32string_view cps);
void AppendCodepoint(char32_t cp, std::string* out);

// Number of code points, as Python's len(str).
size_t CodepointCount(std::string_view s);

// Python's str.isspace() for one character (the set str.split() and str.strip() use).
bool IsPyWhitespace(char32_t cp);

// Simple (one-to-one) Unicode case mappings.
char32_t ToUpper(char32_t cp);
char32_t ToLower(char32_t cp);

// Character classes with Python's meaning (approximated through Unicode general categories).
bool IsPrintable(char32_t cp);    // str.isprintable(): what repr() leaves unescaped
bool IsAlpha(char32_t cp);        // letters (L*)
bool IsDecimal(char32_t cp);      // Nd
bool IsNumericChar(char32_t cp);  // N*
bool IsUpperCase(char32_t cp);    // Lu / Lt
bool IsLowerCase(char32_t cp);    // Ll
bool IsCased(char32_t cp);        // Lu / Ll / Lt
bool IsWordChar(char32_t cp);     // regex \w: alphanumeric or underscore

// Python str.upper() / lower() / strip() over whole strings.
std::string PyUpper(std::string_view s);
std::string PyLower(std::string_view s);

}  // namespace stride::engine::text::jinja
