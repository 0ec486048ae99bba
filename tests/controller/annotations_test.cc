// hpad.io/* annotation parsing and validation (issue 13).
#include <catch2/catch.hpp>

#include "controller/annotations.h"

using namespace hpad::ctrl;
using namespace std::chrono_literals;

TEST_CASE("annotations: valid values", "[annotations]") {
  HpadAnnotations a = ParseHpadAnnotations(
      {{"hpad.io/paused", "true"}, {"hpad.io/paused-replicas", "0"}, {"hpad.io/sync-period", "1m30s"}, {"x", "y"}});
  CHECK(a.problems.empty());
  CHECK(a.paused);
  REQUIRE(a.paused_replicas);
  CHECK(*a.paused_replicas == 0);
  REQUIRE(a.sync_period);
  CHECK(*a.sync_period == 90s);
  CHECK(a.Paused());
  HpadAnnotations none = ParseHpadAnnotations({{"hpad.io/paused", "false"}});
  CHECK(none.problems.empty());
  CHECK_FALSE(none.Paused());
  CHECK_FALSE(none.sync_period);
}

TEST_CASE("annotations: invalid values are reported and the default applies", "[annotations]") {
  HpadAnnotations a = ParseHpadAnnotations(
      {{"hpad.io/paused", "yes"}, {"hpad.io/paused-replicas", "-1"}, {"hpad.io/sync-period", "500ms"}});
  CHECK_FALSE(a.Paused());
  CHECK_FALSE(a.sync_period);
  REQUIRE(a.problems.size() == 3);
  CHECK(a.problems[0].message ==
        "invalid value \"yes\" of annotation hpad.io/paused: must be \"true\" or \"false\"; not paused");
  CHECK(a.problems[1].message ==
        "invalid value \"-1\" of annotation hpad.io/paused-replicas: must be a non-negative integer; ignored");
  CHECK(a.problems[2].message == "invalid value \"500ms\" of annotation hpad.io/sync-period: must be between 1s "
                                 "and 1h; the controller's sync period applies");
  CHECK(ParseHpadAnnotations({{"hpad.io/sync-period", "61m"}}).problems.size() == 1);
  CHECK(ParseHpadAnnotations({{"hpad.io/sync-period", "1h"}}).problems.empty());
  CHECK(ParseHpadAnnotations({{"hpad.io/sync-period", "1s"}}).problems.empty());
  CHECK(ParseHpadAnnotations({{"hpad.io/paused-replicas", "99999999999"}}).problems.size() == 1);
  CHECK(ParseHpadAnnotations({{"hpad.io/paused-replicas", "3x"}}).problems.size() == 1);
  // Hostile values are bounded in the message.
  HpadAnnotations big = ParseHpadAnnotations({{"hpad.io/paused", std::string(100000, 'a')}});
  REQUIRE(big.problems.size() == 1);
  CHECK(big.problems[0].message.size() < 400);
}

TEST_CASE("annotations: sync period fallback and change detection", "[annotations]") {
  CHECK(SyncPeriodFor({}, 15s) == 15s);
  CHECK(SyncPeriodFor({{"hpad.io/sync-period", "2m"}}, 15s) == 120s);
  CHECK(SyncPeriodFor({{"hpad.io/sync-period", "bogus"}}, 15s) == 15s);
  CHECK_FALSE(HpadAnnotationsChanged({{"a", "1"}}, {{"a", "2"}}));
  CHECK_FALSE(HpadAnnotationsChanged({{"hpad.io/paused", "true"}, {"z", "1"}}, {{"hpad.io/paused", "true"}}));
  CHECK(HpadAnnotationsChanged({}, {{"hpad.io/paused", "true"}}));
  CHECK(HpadAnnotationsChanged({{"hpad.io/paused", "true"}}, {}));
  CHECK(HpadAnnotationsChanged({{"hpad.io/paused", "true"}}, {{"hpad.io/paused", "false"}}));
  CHECK(HpadAnnotationsChanged({{"hpad.io/paused", "true"}}, {{"hpad.io/paused-replicas", "true"}}));
  CHECK(HpadAnnotationsChanged({{"hpad.io/paused", "true"}},
                               {{"hpad.io/paused", "true"}, {"hpad.io/sync-period", "1m"}}));
}
