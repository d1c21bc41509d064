// Content hashes of full KV blocks, the keys of the prefix cache. A block's hash covers its
// parent's hash and its own token ids, so equal hashes mean equal prefixes, not just equal
// blocks. Used by KvCacheManager (to look up and register blocks) and BlockPool (the map).
//
// Collision stance: 128-bit XXH3. For non-adversarial traffic a false hit needs two different
// prefixes to collide in 128 bits (probability about n^2 / 2^129 for n cached blocks), which we
// treat as impossible, so token ids are not stored next to the hash. XXH3 is not a
// cryptographic hash: where tenants must not be able to probe each other's cache with crafted
// prompts, give each tenant its own `root` (a cache salt, see RootBlockHash).
#pragma once

#include <cstdint>
#include <span>

#include "kvcache/block.h"

namespace stride::kvcache {

struct BlockHash {
  uint64_t low = 0;
  uint64_t high = 0;

  friend bool operator==(const BlockHash& a, const BlockHash& b) {
    return a.low == b.low && a.high == b.high;
  }
  template <typename H>
  friend H AbslHashValue(H h, const BlockHash& hash) {
    return H::combine(std::move(h), hash.low, hash.high);
  }
};

// The parent hash of a request's first block. `extra_key` (0 = none) separates caches that
// must not share blocks even for equal tokens: a LoRA adapter, a tenant's cache salt.
BlockHash RootBlockHash(uint64_t extra_key);

// Hash of one full block: its parent's hash followed by its token ids.
BlockHash HashBlock(const BlockHash& parent, std::span<const int32_t> token_ids);

// A cached block is found by its content hash and the KV-cache group it belongs to (groups
// store different layers, so equal tokens in two groups are two different blocks).
struct BlockKey {
  BlockHash hash;
  int group = 0;

  friend bool operator==(const BlockKey& a, const BlockKey& b) {
    return a.hash == b.hash && a.group == b.group;
  }
  template <typename H>
  friend H AbslHashValue(H h, const BlockKey& key) {
    // The content hash is already uniform: feed its low word and the group only.
    return H::combine(std::move(h), key.hash.low, key.group);
  }
};

}  // namespace stride::kvcache
