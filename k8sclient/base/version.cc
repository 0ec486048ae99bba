#include "k8sclient/base/version.h"
namespace hpad {
const char* Version() { return HPAD_VERSION; }
}  // namespace hpad
