// CertAuthority: an in-memory certificate authority for tests and hpad-sim.
//
// Creates a self-signed CA (EC P-256 key) and issues certificates signed by
// it: serving certificates with DNS/IP subject alternative names (localhost,
// 127.0.0.1) and client certificates whose CN/O become the Kubernetes user and
// groups. Everything is PEM text in and out, so callers never see OpenSSL
// types. Validity is [now - 1h, now + validity]; `now` is passed in (we never
// read the clock here), but note that TLS peers check against the wall clock.
//
// Also: PEM sanity checks used by the transport and the kubeconfig loader.
//
// Thread-safety: a CertAuthority is immutable after Create(); its const
// methods may be called concurrently.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "k8sclient/base/clock.h"
#include "k8sclient/base/status.h"

namespace hpad::k8s {

struct IssuedCert {
  std::string cert_pem;  // the leaf certificate
  std::string key_pem;   // its PKCS#8 private key
};

class CertAuthority {
 public:
  static Result<CertAuthority> Create(const std::string& common_name, Time now,
                                      std::chrono::hours validity = std::chrono::hours(24 * 365));

  const std::string& cert_pem() const { return ca_.cert_pem; }
  const std::string& key_pem() const { return ca_.key_pem; }

  // A TLS server certificate (extendedKeyUsage serverAuth) for the given
  // names, e.g. ({"localhost"}, {"127.0.0.1", "::1"}). CN = first name.
  Result<IssuedCert> IssueServingCert(const std::vector<std::string>& dns_names,
                                      const std::vector<std::string>& ip_addresses) const;
  // A TLS client certificate (extendedKeyUsage clientAuth), subject CN=cn, O=each org.
  Result<IssuedCert> IssueClientCert(const std::string& common_name, const std::vector<std::string>& orgs) const;

 private:
  CertAuthority(IssuedCert ca, Time now, std::chrono::hours validity)
      : ca_(std::move(ca)), now_(now), validity_(validity) {}
  IssuedCert ca_;
  Time now_;
  std::chrono::hours validity_;
};

// Fails unless `pem` holds at least one PEM certificate (and nothing unparsable).
Status CheckPemCertificates(const std::string& pem);
// Fails unless `pem` holds a PEM private key (any type OpenSSL reads).
Status CheckPemPrivateKey(const std::string& pem);
// Subject of the first certificate in `pem`, one-line ("CN=x, O=y"), or "".
std::string CertificateSubject(const std::string& pem);

}  // namespace hpad::k8s
