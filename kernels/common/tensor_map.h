// Tensor maps for the TMA engine's tensor copies (kernels/common/tma.cuh), encoded on the host
// through the driver's cuTensorMapEncodeTiled, which the runtime finds for us (no link to
// libcuda).
#pragma once

#include <cuda.h>

#include <cstdint>

namespace stride::kernels {

// A tensor of `type` elements (bf16, uint8 for fp8, ...) and `rank` (1..5) dimensions,
// innermost first: dims[i] elements, strides[i - 1] bytes between consecutive indices of
// dimension i (multiples of 16; any order), read in boxes of box[i] elements. False if the
// driver has no encoder or refuses the description.
bool EncodeTensorMap(CUtensorMap* map, CUtensorMapDataType type, const void* base, int rank,
                     const uint64_t* dims, const uint64_t* strides, const uint32_t* box,
                     CUtensorMapSwizzle swizzle, CUtensorMapL2promotion promotion);

}  // namespace stride::kernels
