// Pure helpers declared in http_transport.h (no HTTP library here).
#include "k8sclient/http_transport.h"
#include "k8sclient/base/strings.h"
#include "k8sclient/cert_authority.h"

#include <algorithm>
#include <cctype>

namespace hpad::k8s {

std::optional<std::string> FindHeader(const HttpHeaders& headers, const std::string& name) {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreAsciiCase(k, name)) return v;
  }
  return std::nullopt;
}

Result<ServerUrl> ParseServerUrl(const std::string& server) {
  ServerUrl u;
  auto bad = [&](const std::string& why) {
    return InvalidError("server URL \"" + server + "\": " + why);
  };
  size_t sep = server.find("://");
  if (sep == std::string::npos) return bad("missing scheme (want https://host[:port][/prefix])");
  u.scheme = server.substr(0, sep);
  std::transform(u.scheme.begin(), u.scheme.end(), u.scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (u.scheme != "http" && u.scheme != "https") return bad("scheme must be http or https");
  std::string rest = server.substr(sep + 3);
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "" : rest.substr(slash);
  if (path.find_first_of("?#") != std::string::npos) return bad("query or fragment not allowed");
  if (authority.find('@') != std::string::npos) return bad("user info not allowed");
  std::string port_text;
  if (!authority.empty() && authority[0] == '[') {  // IPv6 literal
    size_t close = authority.find(']');
    if (close == std::string::npos) return bad("unterminated IPv6 address");
    u.host = authority.substr(0, close + 1);
    std::string after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad("junk after IPv6 address");
      port_text = after.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    u.host = authority.substr(0, colon);
    if (colon != std::string::npos) port_text = authority.substr(colon + 1);
  }
  if (u.host.empty()) return bad("missing host");
  if (!port_text.empty()) {
    auto port = ParseUint64(port_text);  // digits only: no sign, no spaces
    if (port_text.size() > 5 || !port.ok()) return bad("bad port");
    if (*port < 1 || *port > 65535) return bad("port out of range");
    u.port = static_cast<int>(*port);
  } else {
    u.port = u.https() ? 443 : 80;
  }
  while (!path.empty() && path.back() == '/') path.pop_back();
  u.path_prefix = path;
  return u;
}

bool IsLoopbackHost(const std::string& host) {
  const std::string h = AsciiLower(host);
  if (h == "localhost" || h == "[::1]") return true;
  // 127.a.b.c, each part a decimal number 0-255.
  if (h.rfind("127.", 0) != 0) return false;
  int parts = 0;
  size_t pos = 0;
  while (pos <= h.size()) {
    size_t dot = h.find('.', pos);
    std::string part = h.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    auto octet = ParseUint64(part);
    if (part.size() > 3 || !octet.ok() || *octet > 255) return false;
    ++parts;
    if (dot == std::string::npos) break;
    pos = dot + 1;
  }
  return parts == 4;
}

Status CheckCredentialsTransport(const TransportConfig& config, const ServerUrl& url) {
  if (url.https() || !config.token_source || IsLoopbackHost(url.host)) return Status::Ok();
  return InvalidError("server " + config.server +
                      ": refusing to send credentials (bearer token or exec plugin) in clear text over http:// "
                      "to a non-loopback host; use https:// (plain http is allowed only to localhost, e.g. "
                      "kubectl proxy)");
}

Result<ServerUrl> CheckTransportConfig(const TransportConfig& config) {
  auto url = ParseServerUrl(config.server);
  if (!url.ok()) return url.status();
  if (Status s = CheckCredentialsTransport(config, *url); !s.ok()) return s;
  if (!config.ca_pem.empty()) {
    if (Status s = CheckPemCertificates(config.ca_pem); !s.ok()) return s.WithContext("certificate authority");
  }
  if (config.client_cert_pem.empty() != config.client_key_pem.empty())
    return InvalidError("client certificate and client key must be given together");
  if (!config.client_cert_pem.empty()) {
    if (Status s = CheckPemCertificates(config.client_cert_pem); !s.ok()) return s.WithContext("client certificate");
    if (Status s = CheckPemPrivateKey(config.client_key_pem); !s.ok()) return s.WithContext("client key");
  }
  return url;
}

}  // namespace hpad::k8s
