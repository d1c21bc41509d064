#include "kvcache/block_hash.h"

#include <xxhash.h>

#include <cstring>

#include "absl/container/inlined_vector.h"

namespace stride::kvcache {

namespace {

constexpr uint64_t kRootSeed = 0x5354524944450001ULL;  // "STRIDE" + format version 1

}  // namespace

BlockHash RootBlockHash(uint64_t extra_key) {
  XXH128_hash_t h = XXH3_128bits_withSeed(&extra_key, sizeof(extra_key), kRootSeed);
  return BlockHash{h.low64, h.high64};
}

BlockHash HashBlock(const BlockHash& parent, std::span<const int32_t> token_ids) {
  // One contiguous buffer (parent, then tokens) so XXH3 sees a single input; blocks of up to
  // 64 tokens need no heap allocation.
  absl::InlinedVector<uint64_t, 2 + 32> buffer(2 + (token_ids.size() + 1) / 2, 0);
  buffer[0] = parent.low;
  buffer[1] = parent.high;
  std::memcpy(buffer.data() + 2, token_ids.data(), token_ids.size_bytes());
  XXH128_hash_t h = XXH3_128bits(buffer.data(), 16 + token_ids.size_bytes());
  return BlockHash{h.low64, h.high64};
}

}  // namespace stride::kvcache
