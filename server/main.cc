// The `stride` binary: dispatches to a subcommand (serve, generate, tokenize, detokenize, bench).
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "base/logging.h"
#include "server/cli/commands.h"
#include "server/cli/engine_flags.h"

ABSL_FLAG(std::string, log_level, "warn", "trace, debug, info, warn, error or off");

namespace {

constexpr char kUsage[] =
    "stride: an LLM inference server.\n"
    "usage: stride COMMAND [flags]\n"
    "  serve       the OpenAI-compatible HTTP server\n"
    "  generate    run requests through the engine offline, print JSON lines\n"
    "  tokenize    print token ids for text\n"
    "  detokenize  print text for token ids\n"
    "  bench       load-test an OpenAI-compatible server (vLLM bench serve metrics)\n"
    "Run `stride --helpfull` for every flag.";

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  if (argc < 2 || argv[1][0] == '-') {
    if (argc >= 2 && (std::strcmp(argv[1], "--helpfull") == 0 || std::strcmp(argv[1], "--help") == 0)) {
      absl::ParseCommandLine(argc, argv);
    }
    std::fprintf(stderr, "%s\n", kUsage);
    return 2;
  }
  std::string command = argv[1];
  // Accept --flag-name as well as absl's --flag_name, and the bare and negated forms of the
  // engine's auto / true / false flags.
  std::vector<std::string> args(argv, argv + argc);
  for (int i = 2; i < argc; ++i) {
    std::string& arg = args[i];
    if (arg.rfind("--", 0) != 0) continue;
    for (size_t c = 2; c < arg.size() && arg[c] != '='; ++c) {
      if (arg[c] == '-') arg[c] = '_';
    }
    arg = stride::server::cli::SpellOutEngineFlag(arg);
  }
  std::vector<char*> arg_ptrs;
  for (std::string& arg : args) arg_ptrs.push_back(arg.data());
  // Parse flags from everything after the command name; argv[1] stands in as program name.
  // (The positional arguments returned point into `args`, which lives until main returns.)
  std::vector<char*> positional = absl::ParseCommandLine(argc - 1, arg_ptrs.data() + 1);
  stride::base::InitLogging(absl::GetFlag(FLAGS_log_level));
  using namespace stride::server::cli;
  if (command == "generate") return RunGenerate(positional);
  if (command == "tokenize") return RunTokenize(positional);
  if (command == "detokenize") return RunDetokenize(positional);
  if (command == "serve") return RunServe(positional);
  if (command == "bench") return RunBench(positional);
  std::fprintf(stderr, "stride: unknown command '%s'\n%s\n", command.c_str(), kUsage);
  return 2;
}
