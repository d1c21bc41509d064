#include "server/cli/commands.h"
#include <cstdio>
namespace stride::server::cli {
int RunTokenize(const std::vector<char*>&) { std::fprintf(stderr, "not built yet\n"); return 1; }
int RunDetokenize(const std::vector<char*>&) { std::fprintf(stderr, "not built yet\n"); return 1; }
int RunGenerate(const std::vector<char*>&) { std::fprintf(stderr, "not built yet\n"); return 1; }
}
