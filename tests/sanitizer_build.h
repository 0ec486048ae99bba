// Whether the tests (and so the hpad / hpad-sim they run: one build makes
// both) are compiled with a sanitizer. Tests that measure the product's
// memory or run it from a bare image tree need to know: ASan adds shadow
// memory and a quarantine of freed blocks, and every sanitizer runtime
// reads /proc. gcc spells it __SANITIZE_ADDRESS__ / __SANITIZE_THREAD__,
// clang __has_feature; clang links its runtime statically, so ldd cannot
// tell. Header-only constants; no state.
#pragma once

namespace hpad::testing {

#if defined(__SANITIZE_ADDRESS__)
#define HPAD_TESTS_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define HPAD_TESTS_TSAN 1
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HPAD_TESTS_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define HPAD_TESTS_TSAN 1
#endif
#endif

#ifdef HPAD_TESTS_ASAN
inline constexpr bool kBuiltWithAddressSanitizer = true;
#else
inline constexpr bool kBuiltWithAddressSanitizer = false;
#endif
#ifdef HPAD_TESTS_TSAN
inline constexpr bool kBuiltWithThreadSanitizer = true;
#else
inline constexpr bool kBuiltWithThreadSanitizer = false;
#endif
inline constexpr bool kBuiltWithSanitizer = kBuiltWithAddressSanitizer || kBuiltWithThreadSanitizer;

}  // namespace hpad::testing
