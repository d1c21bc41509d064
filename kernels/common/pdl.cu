#include <atomic>

#include "kernels/common/pdl.h"

namespace stride::kernels {
namespace {
std::atomic<bool> pdl_enabled{true};
}  // namespace

void SetPdlEnabled(bool enabled) { pdl_enabled.store(enabled); }
bool PdlEnabled() { return pdl_enabled.load(); }

}  // namespace stride::kernels
