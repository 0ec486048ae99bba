// Status and Result<T>: errors as values across every hpad library boundary.
//
// A Status carries a code (mapped from HTTP status codes and the metav1.Status
// body by the transport), a human message, and, for API errors, the Kubernetes
// `reason` string. Result<T> is either a value or a non-OK Status. Both are
// plain values: copyable, no shared state, safe to pass between threads.
// No exception crosses a library boundary; adapters catch third-party
// exceptions and turn them into Status.
//
// HPAD_RETURN_IF_ERROR propagates the error of a Status or Result
// expression; HPAD_CHECK aborts on a broken invariant. Failure reports are
// written by status.cc, so this header pulls in no stream library.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace hpad {

namespace internal {
// Print `what` to stderr and abort (status.cc). Programming errors only.
[[noreturn]] void AbortWithMessage(const std::string& what);
[[noreturn]] void CheckFailed(const char* file, int line, const char* condition);
}  // namespace internal

enum class StatusCode {
  kOk = 0,
  kNotFound,      // 404: the object does not exist ("no objects" is an empty list, never this)
  kConflict,      // 409: stale resourceVersion or AlreadyExists
  kGone,          // 410: watch/list resourceVersion too old
  kUnauthorized,  // 401
  kForbidden,     // 403
  kUnavailable,   // 5xx, connection refused, DNS, TLS handshake: the API is down
  kTimeout,       // request or server timeout (504, client-side deadline)
  kInvalid,       // 400/422, malformed input (quantity, YAML, JSON, flag, kubeconfig)
  kTooManyRequests,  // 429
  kCancelled,     // shutdown cancelled the operation
  kInternal,      // broken invariant or unexpected response
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message, std::string reason = {}, int http_code = 0)
      : code_(code), message_(std::move(message)), reason_(std::move(reason)), http_code_(http_code) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // Kubernetes metav1.Status reason (NotFound, Conflict, AlreadyExists, ...), or empty.
  const std::string& reason() const { return reason_; }
  // The HTTP status code when the error came from an HTTP response, else 0.
  int http_code() const { return http_code_; }

  // "Code: message" for logs; the message alone is what users see in events.
  std::string ToString() const;

  // Prefixes the message with context ("reading kubeconfig /x: " + message).
  Status WithContext(const std::string& context) const {
    Status s = *this;
    s.message_ = context + ": " + message_;
    return s;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string reason_;
  int http_code_ = 0;
};

inline Status NotFoundError(std::string m) { return Status(StatusCode::kNotFound, std::move(m), "NotFound", 404); }
inline Status InvalidError(std::string m) { return Status(StatusCode::kInvalid, std::move(m), "Invalid"); }
inline Status InternalError(std::string m) { return Status(StatusCode::kInternal, std::move(m), "InternalError"); }
inline Status UnavailableError(std::string m) { return Status(StatusCode::kUnavailable, std::move(m), "ServiceUnavailable"); }

// A value or an error. Accessing value() of an error aborts (a programming error).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}  // NOLINT(implicit)
  Result(Status status) : data_(std::move(status)) {  // NOLINT(implicit)
    if (std::get<Status>(data_).ok()) internal::AbortWithMessage("Result constructed from an OK Status without a value");
  }

  bool ok() const { return std::holds_alternative<T>(data_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(data_);
  }
  T& value() & { return Checked(); }
  const T& value() const& { return const_cast<Result*>(this)->Checked(); }
  T&& value() && { return std::move(Checked()); }
  T* operator->() { return &Checked(); }
  const T* operator->() const { return &const_cast<Result*>(this)->Checked(); }
  T& operator*() & { return Checked(); }
  const T& operator*() const& { return const_cast<Result*>(this)->Checked(); }

 private:
  T& Checked() {
    if (!ok()) internal::AbortWithMessage("Result::value() on error: " + std::get<Status>(data_).ToString());
    return std::get<T>(data_);
  }
  std::variant<T, Status> data_;
};

// Broken invariants abort with a message (architecture.md "Errors").
#define HPAD_CHECK(cond)                                                     \
  do {                                                                       \
    if (!(cond)) ::hpad::internal::CheckFailed(__FILE__, __LINE__, #cond);   \
  } while (0)

// The Status of a Status or Result expression (for HPAD_RETURN_IF_ERROR).
inline const Status& StatusOf(const Status& s) { return s; }
template <typename T>
const Status& StatusOf(const Result<T>& r) {
  return r.status();
}

// Returns the error of a Status- or Result-valued expression from the
// enclosing function (which returns Status or some Result<U>).
#define HPAD_RETURN_IF_ERROR(expr)                                       \
  do {                                                                   \
    const auto& hpad_return_if_error_value = (expr);                     \
    if (!::hpad::StatusOf(hpad_return_if_error_value).ok())              \
      return ::hpad::StatusOf(hpad_return_if_error_value);               \
  } while (0)

}  // namespace hpad
