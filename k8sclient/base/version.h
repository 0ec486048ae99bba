// hpad's version string (from CMake's project version).
#pragma once
namespace hpad {
const char* Version();
}  // namespace hpad
