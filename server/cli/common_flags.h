// Flags shared by several `stride` subcommands (defined once in common_flags.cc; a flag may be
// defined in only one place).
#pragma once

#include <string>

#include "absl/flags/declare.h"

// Directory with tokenizer.json (+ tokenizer_config.json): tokenize, detokenize, generate.
ABSL_DECLARE_FLAG(std::string, tokenizer);
