// HeapOptional<T> (k8sclient/api/types/heap_optional.h) behaves as the
// std::optional it replaced in MetricSpec/MetricStatus: value semantics
// (deep copies), emptiness, assignment from values and braced lists,
// comparison; and it is one pointer wide.
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <utility>

#include "k8sclient/api/types/heap_optional.h"
#include "k8sclient/api/types/hpa.h"

using hpad::k8s::HeapOptional;

TEST_CASE("HeapOptional is an optional with its value on the heap", "[heap_optional]") {
  HeapOptional<std::string> a;
  CHECK_FALSE(a.has_value());
  CHECK_FALSE(a);
  CHECK(a == std::nullopt);
  CHECK_THROWS_AS(a.value(), std::bad_optional_access);
  static_assert(sizeof(HeapOptional<std::string>) == sizeof(void*));

  a = std::string("web");
  REQUIRE(a);
  CHECK(*a == "web");
  CHECK(a->size() == 3);

  HeapOptional<std::string> b = a;  // deep copy
  b->append("-2");
  CHECK(*a == "web");
  CHECK(*b == "web-2");
  CHECK_FALSE(a == b);
  b = a;
  CHECK(a == b);

  HeapOptional<std::string> c = std::move(b);
  CHECK(*c == "web");
  c = std::nullopt;
  CHECK_FALSE(c);
  CHECK_FALSE(c == a);
  c.emplace(3, 'x');
  CHECK(*c == "xxx");
  c.reset();
  CHECK(c == std::nullopt);

  HeapOptional<std::pair<std::string, int>> p;
  p = {"cpu", 5};  // braced list, as status code assigns pairs
  CHECK(p->first == "cpu");
  p = std::make_pair("memory", 7);  // a convertible pair
  CHECK(p->first == "memory");
  CHECK(p->second == 7);
}

TEST_CASE("MetricSpec and MetricStatus copy their one source deeply", "[heap_optional]") {
  hpad::k8s::MetricSpec spec;
  spec.type = "Resource";
  spec.resource = hpad::k8s::ResourceMetricSource{"cpu", {}};
  hpad::k8s::MetricSpec copy = spec;
  copy.resource->name = "memory";
  CHECK(spec.resource->name == "cpu");
  CHECK_FALSE(copy.pods);
  CHECK(sizeof(hpad::k8s::MetricSpec) < 128);
  CHECK(sizeof(hpad::k8s::MetricStatus) < 128);
}
