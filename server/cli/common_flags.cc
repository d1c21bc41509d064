#include "server/cli/common_flags.h"

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, tokenizer, "",
          "directory holding tokenizer.json and (optionally) tokenizer_config.json");
