// STRIDE_CHECK: aborts with file and line when an internal invariant is broken.
// Never use it for user input (files, requests, flags): those return absl::Status.
#pragma once

#include <sstream>
#include <string>

namespace stride::base {

// Collects the streamed message and aborts in its destructor.
class CheckFailure {
 public:
  CheckFailure(const char* file, int line, const char* condition);
  [[noreturn]] ~CheckFailure();
  std::ostream& stream() { return stream_; }

 private:
  std::ostringstream stream_;
};

// Lets `STRIDE_CHECK(x) << "..."` compile as a void expression.
struct Voidify {
  void operator&(std::ostream&) {}
};

}  // namespace stride::base

#define STRIDE_CHECK(condition)                  \
  (condition) ? (void)0                          \
              : ::stride::base::Voidify() &      \
                    ::stride::base::CheckFailure(__FILE__, __LINE__, #condition).stream()

#define STRIDE_CHECK_EQ(a, b) STRIDE_CHECK((a) == (b)) << #a " = " << (a) << ", " #b " = " << (b) << " "
#define STRIDE_CHECK_LT(a, b) STRIDE_CHECK((a) < (b)) << #a " = " << (a) << ", " #b " = " << (b) << " "
#define STRIDE_CHECK_LE(a, b) STRIDE_CHECK((a) <= (b)) << #a " = " << (a) << ", " #b " = " << (b) << " "
#define STRIDE_CHECK_GE(a, b) STRIDE_CHECK((a) >= (b)) << #a " = " << (a) << ", " #b " = " << (b) << " "
