// The `stride` subcommands. main() parses the absl flags once, then calls one of these with the
// positional arguments that remain (argv[0] is the subcommand name). Each returns the exit code.
#pragma once

#include <vector>

namespace stride::server::cli {

int RunGenerate(const std::vector<char*>& args);
int RunTokenize(const std::vector<char*>& args);
int RunDetokenize(const std::vector<char*>& args);
int RunServe(const std::vector<char*>& args);
int RunBench(const std::vector<char*>& args);

}  // namespace stride::server::cli
