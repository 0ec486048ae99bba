// CertAuthority over the OpenSSL 3 API. Every OpenSSL object lives in a
// unique_ptr with its free function so early error returns cannot leak.
#include "k8sclient/cert_authority.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace hpad::k8s {

namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

std::string OpenSslError(const std::string& what) {
  std::string msg = what;
  unsigned long e = ERR_get_error();
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    msg += ": ";
    msg += buf;
  }
  ERR_clear_error();
  return msg;
}

BioPtr MemBio(const std::string& s) { return BioPtr(BIO_new_mem_buf(s.data(), static_cast<int>(s.size()))); }

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

Result<std::string> KeyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return InternalError(OpenSslError("writing private key"));
  return BioText(bio.get());
}

Result<std::string> CertToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return InternalError(OpenSslError("writing certificate"));
  return BioText(bio.get());
}

Result<KeyPtr> NewKey() {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return InternalError(OpenSslError("generating EC key"));
  return key;
}

Status AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext) return InternalError(OpenSslError("extension " + std::string(OBJ_nid2sn(nid)) + "=" + value));
  if (X509_add_ext(cert, ext.get(), -1) != 1) return InternalError(OpenSslError("adding extension"));
  return Status::Ok();
}

struct Subject {
  std::string cn;
  std::vector<std::string> orgs;
};

// A certificate for `key` with `subject`, not yet signed. issuer==nullptr: self-signed.
Result<X509Ptr> NewCert(EVP_PKEY* key, const Subject& subject, X509* issuer, Time now, std::chrono::hours validity) {
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1) return InternalError(OpenSslError("X509_new"));
  // 64 random bits of serial: RFC 5280 wants unique, positive serials.
  unsigned char serial[8];
  if (RAND_bytes(serial, sizeof serial) != 1) return InternalError(OpenSslError("RAND_bytes"));
  serial[0] &= 0x7F;
  std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>> bn(BN_bin2bn(serial, sizeof serial, nullptr));
  if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())))
    return InternalError(OpenSslError("serial"));
  time_t t = std::chrono::system_clock::to_time_t(now);
  time_t not_before = t - 3600;  // tolerate small clock skew between peers
  time_t not_after = t + static_cast<time_t>(std::chrono::duration_cast<std::chrono::seconds>(validity).count());
  if (!ASN1_TIME_set(X509_getm_notBefore(cert.get()), not_before) ||
      !ASN1_TIME_set(X509_getm_notAfter(cert.get()), not_after))
    return InternalError(OpenSslError("validity"));
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (const std::string& o : subject.orgs) {
    if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(o.c_str()), -1,
                                   -1, 0) != 1)
      return InvalidError(OpenSslError("organization \"" + o + "\""));
  }
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(subject.cn.c_str()),
                                 -1, -1, 0) != 1)
    return InvalidError(OpenSslError("common name \"" + subject.cn + "\""));
  if (X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name) != 1 ||
      X509_set_pubkey(cert.get(), key) != 1)
    return InternalError(OpenSslError("issuer/pubkey"));
  return cert;
}

Status Sign(X509* cert, EVP_PKEY* issuer_key) {
  if (X509_sign(cert, issuer_key, EVP_sha256()) <= 0) return InternalError(OpenSslError("signing certificate"));
  return Status::Ok();
}

Result<X509Ptr> ParseCert(const std::string& pem) {
  BioPtr bio = MemBio(pem);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return InvalidError(OpenSslError("not a PEM certificate"));
  return cert;
}

Result<KeyPtr> ParseKey(const std::string& pem) {
  BioPtr bio = MemBio(pem);
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return InvalidError(OpenSslError("not a PEM private key"));
  return key;
}

}  // namespace

Result<CertAuthority> CertAuthority::Create(const std::string& common_name, Time now, std::chrono::hours validity) {
  auto key = NewKey();
  if (!key.ok()) return key.status();
  auto cert = NewCert(key->get(), {common_name, {}}, nullptr, now, validity);
  if (!cert.ok()) return cert.status();
  X509* c = cert->get();
  for (auto [nid, value] : {std::pair<int, const char*>{NID_basic_constraints, "critical,CA:TRUE"},
                            {NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature"},
                            {NID_subject_key_identifier, "hash"}}) {
    if (Status s = AddExt(c, c, nid, value); !s.ok()) return s;
  }
  if (Status s = Sign(c, key->get()); !s.ok()) return s;
  auto cert_pem = CertToPem(c);
  auto key_pem = KeyToPem(key->get());
  if (!cert_pem.ok()) return cert_pem.status();
  if (!key_pem.ok()) return key_pem.status();
  return CertAuthority(IssuedCert{*cert_pem, *key_pem}, now, validity);
}

namespace {

Result<IssuedCert> Issue(const IssuedCert& ca, Time now, std::chrono::hours validity, const Subject& subject,
                         const std::vector<std::pair<int, std::string>>& exts) {
  auto ca_cert = ParseCert(ca.cert_pem);
  if (!ca_cert.ok()) return ca_cert.status();
  auto ca_key = ParseKey(ca.key_pem);
  if (!ca_key.ok()) return ca_key.status();
  auto key = NewKey();
  if (!key.ok()) return key.status();
  auto cert = NewCert(key->get(), subject, ca_cert->get(), now, validity);
  if (!cert.ok()) return cert.status();
  for (const auto& [nid, value] : exts) {
    if (Status s = AddExt(cert->get(), ca_cert->get(), nid, value); !s.ok()) return s;
  }
  if (Status s = Sign(cert->get(), ca_key->get()); !s.ok()) return s;
  auto cert_pem = CertToPem(cert->get());
  auto key_pem = KeyToPem(key->get());
  if (!cert_pem.ok()) return cert_pem.status();
  if (!key_pem.ok()) return key_pem.status();
  return IssuedCert{*cert_pem, *key_pem};
}

}  // namespace

Result<IssuedCert> CertAuthority::IssueServingCert(const std::vector<std::string>& dns_names,
                                                   const std::vector<std::string>& ip_addresses) const {
  if (dns_names.empty() && ip_addresses.empty()) return InvalidError("serving certificate needs a DNS name or IP");
  std::string san;
  for (const auto& d : dns_names) san += (san.empty() ? "" : ",") + std::string("DNS:") + d;
  for (const auto& ip : ip_addresses) san += (san.empty() ? "" : ",") + std::string("IP:") + ip;
  std::string cn = dns_names.empty() ? ip_addresses.front() : dns_names.front();
  return Issue(ca_, now_, validity_, {cn, {}},
               {{NID_basic_constraints, "critical,CA:FALSE"},
                {NID_key_usage, "critical,digitalSignature,keyEncipherment"},
                {NID_ext_key_usage, "serverAuth"},
                {NID_authority_key_identifier, "keyid:always"},
                {NID_subject_alt_name, san}});
}

Result<IssuedCert> CertAuthority::IssueClientCert(const std::string& common_name,
                                                  const std::vector<std::string>& orgs) const {
  return Issue(ca_, now_, validity_, {common_name, orgs},
               {{NID_basic_constraints, "critical,CA:FALSE"},
                {NID_key_usage, "critical,digitalSignature,keyEncipherment"},
                {NID_ext_key_usage, "clientAuth"},
                {NID_authority_key_identifier, "keyid:always"}});
}

Status CheckPemCertificates(const std::string& pem) {
  BioPtr bio = MemBio(pem);
  int n = 0;
  for (;;) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) break;
    ++n;
  }
  unsigned long err = ERR_peek_last_error();
  // Running off the end of the data after at least one certificate is the
  // normal way out; anything else is a damaged PEM block.
  bool clean_end = err == 0 || (ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE);
  if (n == 0) return InvalidError(OpenSslError("no PEM certificate found"));
  if (!clean_end) return InvalidError(OpenSslError("damaged PEM certificate after " + std::to_string(n) + " good"));
  ERR_clear_error();
  return Status::Ok();
}

Status CheckPemPrivateKey(const std::string& pem) {
  auto key = ParseKey(pem);
  return key.ok() ? Status::Ok() : key.status();
}

std::string CertificateSubject(const std::string& pem) {
  auto cert = ParseCert(pem);
  if (!cert.ok()) return "";
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert->get()), 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
  return BioText(bio.get());
}

}  // namespace hpad::k8s
