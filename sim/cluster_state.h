// Forwarding header: the simulator's API server moved to sim/apiserver/
// (library hpad_sim_apiserver). Kept only for files owned by other work in
// flight (sim/runner.cc, sim/controller_driver.*, bench/scale_bench.cc);
// include "sim/apiserver/cluster_state.h" in new code. Delete once they do.
#pragma once

#include "sim/apiserver/cluster_state.h"
