#include "controller/version.h"
namespace hpad {
const char* Version() { return HPAD_VERSION; }
}  // namespace hpad
