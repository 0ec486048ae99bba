// ManualClock: the simulated clock of the tests. It is hpad::SimulatedClock
// (k8sclient/base/clock.h), which counts the threads asleep on it so a test
// can drive background threads (leader electors, reflectors, delaying
// queues, event recorders) deterministically: AwaitSleepers(n), check
// invariants, Advance, repeat - no wall-clock sleeps. This alias keeps the
// older spelling; new tests may use either name.
#pragma once

#include "k8sclient/base/clock.h"

namespace hpad::k8s::testing {

using ManualClock = ::hpad::SimulatedClock;

}  // namespace hpad::k8s::testing
