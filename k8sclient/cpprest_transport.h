// The cpprestsdk + OpenSSL implementation of HttpTransport, which hpad used
// before NewHttpTransport (httplib_transport.h) replaced it for requests and
// then watches; kept for bench/transport_bench's comparison (issue 16).
//
// cpprest_transport.cc is the only translation unit that includes cpprestsdk
// headers (one such TU costs 7-15 s to compile; libraries.md §2). TLS
// material is used from memory (no temporary files): custom CA (replacing the
// system trust store, as kubectl does when a CA is given), client
// certificate + key, or insecure_skip_tls_verify. Each request gets the
// bearer token from the TokenSource, `User-Agent` and `Accept:
// application/json`; a 401 invalidates the token source and the request is
// retried once with a fresh token. A request that failed while being
// written (a keep-alive connection the server closed while it was idle in
// the pool) is retried once, any verb, on a new connection: the server
// cannot have processed it (Go's net/http does the same).
//
// Thread-safety: the transport may be shared by any number of threads.
#pragma once

#include <memory>

#include "k8sclient/http_transport.h"
#include "k8sclient/base/status.h"

namespace hpad::k8s {

// Fails (kInvalid) on an unparsable server URL or PEM data.
Result<std::unique_ptr<HttpTransport>> NewCpprestTransport(TransportConfig config);

}  // namespace hpad::k8s
