#include "tests/gpu/gpu_test_util.h"

#include <chrono>
#include <cstdio>

namespace stride::testing::gpu {

unsigned FreshSeed() {
  static const unsigned seed = [] {
    const unsigned s = static_cast<unsigned>(
        std::chrono::high_resolution_clock::now().time_since_epoch().count());
    std::printf("GPU tests: random seed %u\n", s);
    return s;
  }();
  static unsigned counter = 0;
  return seed + 7919 * counter++;
}

}  // namespace stride::testing::gpu
