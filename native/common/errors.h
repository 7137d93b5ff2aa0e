// Error types shared by kernels and the addon. Kernels and validation throw these plain C++
// exceptions; the addon's trampoline (native/addon/registry.cc) turns them into JS TypeError /
// RangeError / Error, so kernel code never depends on N-API and never aborts the process.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace mpf {

struct TypeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct RangeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// str(a, b, c) concatenates anything with operator<<, for error messages.
template <typename... Args>
std::string str(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

template <typename... Args>
[[noreturn]] void throw_type(const Args&... args) {
  throw TypeError(str(args...));
}
template <typename... Args>
[[noreturn]] void throw_range(const Args&... args) {
  throw RangeError(str(args...));
}

}  // namespace mpf
