// HeapOptional<T>: std::optional's interface with the value on the heap, so
// an absent value costs one pointer instead of sizeof(T).
//
// Why (issue 16, memory): MetricSpec and MetricStatus hold one optional per
// metric source type, exactly one of which is set; inline, those optionals
// made a MetricSpec 1,168 bytes and a MetricStatus 1,008 bytes, nearly all
// of it empty, for every metric of every cached HPA (15,000 HPAs). Boxed,
// they are about 70 bytes plus the one source that is set.
//
// Semantics are a value's: copying copies the value (deep), moving moves
// the pointer, comparisons compare values. Not thread-safe beyond what a
// plain value is (a const HeapOptional may be read from many threads).
#pragma once

#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace hpad::k8s {

template <typename T>
class HeapOptional {
 public:
  using value_type = T;

  HeapOptional() = default;
  HeapOptional(std::nullopt_t) {}  // NOLINT: implicit, as std::optional
  HeapOptional(const T& v) : p_(std::make_unique<T>(v)) {}  // NOLINT
  HeapOptional(T&& v) : p_(std::make_unique<T>(std::move(v))) {}  // NOLINT
  HeapOptional(const HeapOptional& o) : p_(o.p_ ? std::make_unique<T>(*o.p_) : nullptr) {}
  HeapOptional(HeapOptional&&) noexcept = default;
  HeapOptional& operator=(const HeapOptional& o) {
    if (this != &o) p_ = o.p_ ? std::make_unique<T>(*o.p_) : nullptr;
    return *this;
  }
  HeapOptional& operator=(HeapOptional&&) noexcept = default;
  HeapOptional& operator=(std::nullopt_t) {
    p_.reset();
    return *this;
  }
  // A T, also from a braced list (x = {"cpu", current}).
  HeapOptional& operator=(T&& v) {
    p_ = std::make_unique<T>(std::move(v));
    return *this;
  }
  // Any value T can be made from (a pair of convertible members, ...).
  template <typename U>
    requires(!std::is_same_v<std::remove_cvref_t<U>, HeapOptional> &&
             !std::is_same_v<std::remove_cvref_t<U>, std::nullopt_t> && std::is_constructible_v<T, U &&>)
  HeapOptional& operator=(U&& v) {
    p_ = std::make_unique<T>(std::forward<U>(v));
    return *this;
  }

  template <typename... Args>
  T& emplace(Args&&... args) {
    p_ = std::make_unique<T>(std::forward<Args>(args)...);
    return *p_;
  }
  void reset() { p_.reset(); }

  bool has_value() const { return p_ != nullptr; }
  explicit operator bool() const { return p_ != nullptr; }
  T& operator*() { return *p_; }
  const T& operator*() const { return *p_; }
  T* operator->() { return p_.get(); }
  const T* operator->() const { return p_.get(); }
  T& value() {
    if (!p_) throw std::bad_optional_access();
    return *p_;
  }
  const T& value() const {
    if (!p_) throw std::bad_optional_access();
    return *p_;
  }

  friend bool operator==(const HeapOptional& a, std::nullopt_t) { return !a.p_; }
  friend bool operator==(const HeapOptional& a, const HeapOptional& b)
    requires requires(const T& x) { x == x; }
  {
    if (a.has_value() != b.has_value()) return false;
    return !a.p_ || *a.p_ == *b.p_;
  }

 private:
  std::unique_ptr<T> p_;
};

}  // namespace hpad::k8s
