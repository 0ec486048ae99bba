// Placeholder translation unit so hpad_sim always has a source; it records
// which controller version the simulator was built with.
#include "controller/version.h"
namespace hpad::sim {
const char* BuiltWithControllerVersion() { return hpad::Version(); }
}  // namespace hpad::sim
