// The HttpTransport hpad uses: NewHttpTransport.
//
// Send runs the whole exchange on the calling thread with cpp-httplib's
// blocking client (httplib_transport.cc): connect, TLS, write, read the
// reply, one kernel wake-up per reply. The cpprestsdk client used before
// hopped every request across its pplx/asio thread pool several times; at
// 15,000 HPAs (~250 requests/s) those ~40 pool threads took ~40% of hpad's
// CPU in context switches (issue 16). OpenStream (watches: a pull-based,
// cancellable line reader) runs its exchange on a reader thread of the
// stream's own, which hands the body's bytes to ReadLine (two wake-ups per
// event instead of cpprest's pool hops).
//
// Send and OpenStream keep every semantic of the cpprest transport: status codes are
// responses; connection refused, DNS and TLS failures are kUnavailable;
// deadlines kTimeout; a CancelScope aborts at once (kCancelled) and a
// request whose scope is already cancelled is not sent; the request
// timeout and hard_timeout bound the whole exchange however slowly bytes
// trickle; the body limit is checked against Content-Length and while
// reading; a 401 invalidates the token source and retries once; a request
// that failed while being written (a keep-alive connection the server
// closed) is retried once on a new connection. TLS material is used from
// memory: a configured CA replaces the system trust store, client
// certificate chain + key, insecure_skip_tls_verify; the server
// certificate must match the host (OpenSSL's own host/IP check).
//
// Thread-safety: the transport may be shared by any number of threads;
// each Send checks a client (one connection) out of a bounded idle pool;
// each stream has a client and a reader thread of its own, joined when the
// stream is destroyed.
#pragma once

#include <memory>

#include "k8sclient/http_transport.h"
#include "k8sclient/base/status.h"

namespace hpad::k8s {

// Fails (kInvalid) on an unparsable server URL or PEM data, and on
// credentials that would travel in clear text (CheckCredentialsTransport).
Result<std::unique_ptr<HttpTransport>> NewHttpTransport(TransportConfig config);

}  // namespace hpad::k8s
