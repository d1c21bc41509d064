// libFuzzer target for the safetensors header parser (engine/model/safetensors_header.h).
// The input is a whole file: the parser must return a status for anything and never read past
// the bytes it is given. When it accepts a header, every tensor must lie inside the file, have a
// byte size equal to numel * element size, and not overlap another tensor; the target checks
// those promises itself so that a parser bug is a crash, not a silent pass.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "engine/model/safetensors_header.h"

namespace {

void Require(bool condition) {
  if (!condition) std::abort();
}

void CheckAccepted(const stride::engine::model::SafetensorsHeader& header, size_t size) {
  Require(header.data_offset >= 8 && header.data_offset <= size);
  Require(header.data_offset + header.data_size == size);
  uint64_t previous_end = 0;
  for (const auto& tensor : header.tensors) {
    Require(tensor.begin <= tensor.end && tensor.end <= header.data_size);
    unsigned __int128 bytes = static_cast<unsigned>(tensor.element_size);
    for (int64_t dim : tensor.shape) {
      Require(dim >= 0);
      bytes *= static_cast<uint64_t>(dim);
      if (bytes > size) break;  // the equality below then fails unless a later dim is 0
    }
    bool has_zero = false;
    for (int64_t dim : tensor.shape) has_zero = has_zero || dim == 0;
    if (has_zero) bytes = 0;
    Require(bytes == tensor.end - tensor.begin);
    if (tensor.begin != tensor.end) {
      Require(tensor.begin >= previous_end);
      previous_end = tensor.end;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto header = stride::engine::model::ParseSafetensorsHeader(bytes, size, "fuzz.safetensors");
  if (header.ok()) CheckAccepted(*header, size);
  // A caller may also claim a larger file than the bytes it hands over (a partial read).
  auto partial = stride::engine::model::ParseSafetensorsHeader(bytes, uint64_t{size} * 2 + 8,
                                                               "fuzz.safetensors");
  (void)partial;
  return 0;
}
