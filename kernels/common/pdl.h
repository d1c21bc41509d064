// Host switch for programmatic dependent launch (kernels/common/pdl.cuh): whether kernel launches
// carry the programmatic-serialization attribute. Off makes every launch a plain stream-ordered
// one, for A/B measurements. Set at start-up, before any CUDA graph is captured.
#pragma once

namespace stride::kernels {

void SetPdlEnabled(bool enabled);
bool PdlEnabled();

}  // namespace stride::kernels
