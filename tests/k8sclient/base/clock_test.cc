// Clocks (k8sclient/base/clock.h): the real clock sleeps until a deadline and
// is woken early only by Notify() with a true predicate; the simulated clock
// keeps wall and monotonic time apart and counts its sleepers.
#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <thread>

#include "k8sclient/base/clock.h"

namespace {

using hpad::Duration;
using hpad::MonoTime;
using hpad::RealClock;
using hpad::SimulatedClock;
using hpad::Time;
using namespace std::chrono_literals;

const Time kStart = Time(std::chrono::seconds(1767225600));  // 2026-01-01T00:00:00Z

}  // namespace

TEST_CASE("real clock: a timed wait lasts its interval", "[clock]") {
  RealClock clock;
  const MonoTime before = clock.MonoNow();
  CHECK_FALSE(clock.WaitFor(30ms, nullptr));
  CHECK(clock.MonoNow() - before >= 30ms);
  // A predicate that stays false does not end the wait early either.
  const MonoTime again = clock.MonoNow();
  CHECK_FALSE(clock.WaitFor(30ms, [] { return false; }));
  CHECK(clock.MonoNow() - again >= 30ms);
}

TEST_CASE("real clock: Notify wakes a waiter whose predicate became true", "[clock]") {
  RealClock clock;
  std::atomic<bool> done{false};
  auto waiter = std::async(std::launch::async, [&] { return clock.WaitUntil(MonoTime::max(), [&] { return done.load(); }); });
  done = true;
  clock.Notify();
  // Safety net only: without the Notify the waiter would sleep forever.
  REQUIRE(waiter.wait_for(10s) == std::future_status::ready);
  CHECK(waiter.get());
  // A predicate already true returns at once, whatever the deadline.
  CHECK(clock.WaitUntil(MonoTime::max(), [] { return true; }));
  // The wall-clock spelling: Time::max() is "no deadline".
  CHECK(clock.WaitUntil(Time::max(), [] { return true; }));
}

TEST_CASE("simulated clock: wall and monotonic time", "[clock]") {
  SimulatedClock clock(kStart);
  const MonoTime m0 = clock.MonoNow();
  CHECK(m0 != MonoTime{});
  clock.Advance(90s);
  CHECK(clock.Now() == kStart + 90s);
  CHECK(clock.MonoNow() - m0 == 90s);
  // Setting the wall clock back (an NTP step) leaves intervals alone.
  clock.Set(kStart);
  CHECK(clock.Now() == kStart);
  CHECK(clock.MonoNow() - m0 == 90s);
  clock.Set(kStart + 10s);
  CHECK(clock.MonoNow() - m0 == 100s);
  CHECK(hpad::AddSaturating(MonoTime::max() - 1s, 1h) == MonoTime::max());
}

TEST_CASE("simulated clock: advance, then wait for N sleepers", "[clock]") {
  SimulatedClock clock(kStart);
  std::atomic<int> woke{0};
  std::thread sleeper([&] {
    clock.WaitFor(10s, nullptr);
    ++woke;
    clock.WaitFor(10s, nullptr);
    ++woke;
  });
  REQUIRE(clock.AwaitSleepers(1));
  clock.Advance(9s);
  REQUIRE(clock.AwaitSleepers(1));  // re-checked at t=9s and went back to sleep
  CHECK(woke == 0);
  clock.Advance(1s);
  REQUIRE(clock.AwaitSleepers(1));  // the second wait
  CHECK(woke == 1);
  CHECK(clock.Sleepers() == 1);
  clock.Advance(10s);
  sleeper.join();
  CHECK(woke == 2);
  CHECK(clock.Sleepers() == 0);
}
