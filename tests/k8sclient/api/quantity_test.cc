// Quantity: the Kubernetes grammar, MilliValue rounding (rule 1.7: every
// metric value becomes milli-int64 as soon as it is read) and canonical text
// (C15: statuses are written from milli values). Expected values are what
// k8s.io/apimachinery/pkg/api/resource gives for the same input.
#include <catch2/catch.hpp>

#include <limits>

#include "k8sclient/api/quantity.h"

using hpad::k8s::Quantity;

TEST_CASE("quantity parse: milli value and canonical text", "[quantity]") {
  struct Case {
    const char* text;
    int64_t milli;
    const char* canonical;
  };
  const Case cases[] = {
      {"0", 0, "0"},
      {"0Gi", 0, "0"},
      {"-0", 0, "0"},
      {"1", 1000, "1"},
      {"+1", 1000, "1"},
      {"-1", -1000, "-1"},
      {"500m", 500, "500m"},
      {"1500m", 1500, "1500m"},
      {"1000m", 1000, "1"},
      {"1.5", 1500, "1500m"},
      {"0.5", 500, "500m"},
      {".5", 500, "500m"},
      {"1.", 1000, "1"},
      {"0.1m", 1, "100u"},      // MilliValue rounds up in magnitude
      {"-0.1m", -1, "-100u"},   // away from zero, as Kubernetes' negativeScaleInt64
      {"1u", 1, "1u"},
      {"0.1n", 1, "1n"},        // parsing rounds up to nano precision
      {"1n", 1, "1n"},
      {"1e3", 1000000, "1e3"},
      {"1E3", 1000000, "1e3"},
      {"1.5e3", 1500000, "1500"},
      {"12e1", 120000, "120"},
      {"1e-3", 1, "1e-3"},
      {"1e+3", 1000000, "1e3"},
      {"1k", 1000000, "1k"},
      {"1000", 1000000, "1k"},
      {"1M", 1000000000, "1M"},
      {"1E", std::numeric_limits<int64_t>::max(), "1E"},  // 1e21 milli saturates
      {"1Ki", 1024000, "1Ki"},
      {"2048Ki", 2097152000, "2Mi"},
      {"100Mi", 104857600000, "100Mi"},
      {"1.5Gi", 1610612736000, "1536Mi"},
      {"1Gi", 1073741824000, "1Gi"},
      {"0.5Ki", 512000, "512"},  // below 1024: printed as decimal SI
      {"1.5Ki", 1536000, "1536"},
      {"-2048Ki", -2097152000, "-2Mi"},
      {"0.001Ki", 1024, "1024m"},  // 1.024 exactly
      {"0.0001Ki", 103, "102400u"},
      {"123456789", 123456789000, "123456789"},
      {"00012", 12000, "12"},
      {"99999999999999999999999", std::numeric_limits<int64_t>::max(), "9223372036854775807"},  // capped at 2^63-1
      {"-99999999999999999999999", std::numeric_limits<int64_t>::min(), "-9223372036854775807"},
      {"8Ei", std::numeric_limits<int64_t>::max(), "9223372036854775807"},
      {"1e-100", 1, "1e-9"},
      {"1e100", std::numeric_limits<int64_t>::max(), "9223372036854775807e0"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto q = Quantity::Parse(c.text);
    REQUIRE(q.ok());
    CHECK(q->MilliValue() == c.milli);
    if (std::string(c.canonical) == "9223372036854775807e0") {
      // DecimalExponent format of the capped value: exponent 0 prints no suffix.
      CHECK(q->ToString() == "9223372036854775807");
    } else {
      CHECK(q->ToString() == c.canonical);
    }
    // Canonical text parses back to the same value.
    auto again = Quantity::Parse(q->ToString());
    REQUIRE(again.ok());
    CHECK(*again == *q);
  }
}

TEST_CASE("quantity formats", "[quantity]") {
  CHECK(Quantity::Parse("1Gi")->format() == Quantity::Format::kBinarySI);
  CHECK(Quantity::Parse("1G")->format() == Quantity::Format::kDecimalSI);
  CHECK(Quantity::Parse("1e9")->format() == Quantity::Format::kDecimalExponent);
  CHECK(Quantity::Parse("1")->format() == Quantity::Format::kDecimalSI);
}

TEST_CASE("quantity bad text is an error naming the text", "[quantity]") {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"", "quantity \"\": empty quantity"},
      {"12x", "quantity \"12x\": unknown suffix \"x\""},
      {"abc", "quantity \"abc\": expected a number"},
      {"-", "quantity \"-\": expected a number"},
      {".", "quantity \".\": expected a number"},
      {"1.5.5", "quantity \"1.5.5\": unknown suffix \".5\""},
      {"1 Gi", "quantity \"1 Gi\": unknown suffix \" Gi\""},
      {"1mi", "quantity \"1mi\": unknown suffix \"mi\""},
      {"1K", "quantity \"1K\": unknown suffix \"K\""},
      {"1e", "quantity \"1e\": unknown suffix \"e\""},
      {"1e3.5", "quantity \"1e3.5\": unknown suffix \"e3.5\""},
      {"1e+", "quantity \"1e+\": unknown suffix \"e+\""},
      {"Gi", "quantity \"Gi\": expected a number"},
      {"--1", "quantity \"--1\": expected a number"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto q = Quantity::Parse(c.text);
    REQUIRE_FALSE(q.ok());
    CHECK(q.status().code() == hpad::StatusCode::kInvalid);
    CHECK(q.status().message() == c.message);
  }
}

TEST_CASE("quantity from milli values (C15 status quantities)", "[quantity]") {
  using F = Quantity::Format;
  struct Case {
    int64_t milli;
    F format;
    const char* text;
  };
  const Case cases[] = {
      {250, F::kDecimalSI, "250m"},
      {1000, F::kDecimalSI, "1"},
      {1500, F::kDecimalSI, "1500m"},
      {0, F::kDecimalSI, "0"},
      {-3000, F::kDecimalSI, "-3"},
      {120000000, F::kDecimalSI, "120k"},
      {1073741824000, F::kBinarySI, "1Gi"},
      {104857600000, F::kBinarySI, "100Mi"},
      {1500, F::kBinarySI, "1500m"},             // small binary values print as decimal
      {1025000, F::kBinarySI, "1025"},           // not a multiple of 1024
      {52428800500, F::kBinarySI, "52428800500m"},  // fractional: decimal, no rounding
      {66666, F::kDecimalSI, "66666m"},
  };
  for (const auto& c : cases) {
    INFO(c.milli);
    Quantity q = Quantity::FromMilli(c.milli, c.format);
    CHECK(q.ToString() == c.text);
    CHECK(q.MilliValue() == c.milli);
  }
  CHECK(Quantity::FromInt(3).ToString() == "3");
  CHECK(Quantity::FromInt(2048, F::kBinarySI).ToString() == "2Ki");
  CHECK(Quantity::FromInt(-5).MilliValue() == -5000);
}

TEST_CASE("quantity value, double and comparison", "[quantity]") {
  CHECK(Quantity::Parse("1500m")->Value() == 2);  // rounds up in magnitude
  CHECK(Quantity::Parse("-1500m")->Value() == -2);
  CHECK(Quantity::Parse("2")->Value() == 2);
  CHECK(Quantity::Parse("1.5Gi")->Value() == 1610612736);
  CHECK(Quantity::Parse("0.1")->AsDouble() == Approx(0.1));
  CHECK(Quantity::Parse("1.5Gi")->AsDouble() == Approx(1610612736.0));
  CHECK(Quantity::Parse("1k").value() == Quantity::Parse("1000").value());
  CHECK(Quantity::Parse("1Ki").value() == Quantity::Parse("1024").value());
  CHECK(Quantity::Parse("500m")->Compare(Quantity::Parse("0.5").value()) == 0);
  CHECK(Quantity::Parse("499m")->Compare(Quantity::Parse("0.5").value()) < 0);
  CHECK(Quantity::Parse("1Mi")->Compare(Quantity::Parse("1M").value()) > 0);
  CHECK(Quantity::Parse("-1")->Compare(Quantity::Parse("0").value()) < 0);
  CHECK(Quantity::Parse("1n")->Compare(Quantity::Parse("0").value()) > 0);
  CHECK(Quantity::Parse("0").value().IsZero());
  CHECK_FALSE(Quantity::Parse("1n").value().IsZero());
}
