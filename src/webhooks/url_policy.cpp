#include "webhooks/url_policy.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <memory>

namespace lookalike {

namespace {

constexpr std::size_t kMaxUrlBytes = 2048;

Error invalid(std::string message) {
  return make_error(ErrorCode::kInvalidArgument, std::move(message));
}

bool in_v4(std::uint32_t address, std::uint32_t network, int prefix) {
  std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
  return (address & mask) == network;
}

constexpr std::uint32_t v4(int a, int b, int c, int d) {
  return static_cast<std::uint32_t>(a) << 24 | static_cast<std::uint32_t>(b) << 16 |
         static_cast<std::uint32_t>(c) << 8 | static_cast<std::uint32_t>(d);
}

AddressClass classify_v4(std::uint32_t a) {
  if (a == v4(255, 255, 255, 255)) return AddressClass::kBroadcast;
  if (in_v4(a, v4(0, 0, 0, 0), 8)) return AddressClass::kUnspecified;
  if (in_v4(a, v4(127, 0, 0, 0), 8)) return AddressClass::kLoopback;
  if (in_v4(a, v4(10, 0, 0, 0), 8) || in_v4(a, v4(172, 16, 0, 0), 12) ||
      in_v4(a, v4(192, 168, 0, 0), 16)) {
    return AddressClass::kPrivate;
  }
  if (in_v4(a, v4(169, 254, 0, 0), 16)) return AddressClass::kLinkLocal;
  if (in_v4(a, v4(100, 64, 0, 0), 10)) return AddressClass::kSharedAddress;
  if (in_v4(a, v4(224, 0, 0, 0), 4)) return AddressClass::kMulticast;
  if (in_v4(a, v4(192, 0, 2, 0), 24) || in_v4(a, v4(198, 51, 100, 0), 24) ||
      in_v4(a, v4(203, 0, 113, 0), 24)) {
    return AddressClass::kDocumentation;
  }
  if (in_v4(a, v4(240, 0, 0, 0), 4) || in_v4(a, v4(192, 0, 0, 0), 24) ||
      in_v4(a, v4(192, 88, 99, 0), 24) || in_v4(a, v4(198, 18, 0, 0), 15)) {
    return AddressClass::kReserved;
  }
  return AddressClass::kPublic;
}

std::uint32_t v4_at(const unsigned char* bytes) {
  return static_cast<std::uint32_t>(bytes[0]) << 24 | static_cast<std::uint32_t>(bytes[1]) << 16 |
         static_cast<std::uint32_t>(bytes[2]) << 8 | static_cast<std::uint32_t>(bytes[3]);
}

bool starts_with_bytes(const unsigned char* bytes, std::initializer_list<unsigned char> prefix) {
  return std::equal(prefix.begin(), prefix.end(), bytes);
}

AddressClass classify_v6(const unsigned char* b) {
  static constexpr unsigned char kZero[16] = {};
  bool first_80_zero = std::memcmp(b, kZero, 10) == 0;
  if (first_80_zero && b[10] == 0xff && b[11] == 0xff) return classify_v4(v4_at(b + 12));  // mapped
  if (std::memcmp(b, kZero, 16) == 0) return AddressClass::kUnspecified;
  if (std::memcmp(b, kZero, 15) == 0 && b[15] == 1) return AddressClass::kLoopback;
  if (first_80_zero && b[10] == 0 && b[11] == 0) {  // ::a.b.c.d, IPv4-compatible (deprecated)
    auto embedded = classify_v4(v4_at(b + 12));
    return embedded == AddressClass::kPublic ? AddressClass::kReserved : embedded;
  }
  if (starts_with_bytes(b, {0x00, 0x64, 0xff, 0x9b}) && std::memcmp(b + 4, kZero, 8) == 0) {
    return classify_v4(v4_at(b + 12));  // 64:ff9b::/96 NAT64
  }
  if (starts_with_bytes(b, {0x20, 0x02})) return classify_v4(v4_at(b + 2));    // 2002::/16 6to4
  if ((b[0] & 0xfe) == 0xfc) return AddressClass::kPrivate;                    // fc00::/7
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return AddressClass::kLinkLocal;  // fe80::/10
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return AddressClass::kPrivate;    // fec0::/10
  if (b[0] == 0xff) return AddressClass::kMulticast;
  if (starts_with_bytes(b, {0x20, 0x01, 0x0d, 0xb8}) ||
      (b[0] == 0x3f && b[1] == 0xff && (b[2] & 0xf0) == 0)) {
    return AddressClass::kDocumentation;  // 2001:db8::/32, 3fff::/20
  }
  if (starts_with_bytes(b, {0x20, 0x01}) && (b[2] & 0xfe) == 0) {
    return AddressClass::kReserved;  // 2001::/23 IETF protocol assignments (Teredo, ORCHID...)
  }
  if (starts_with_bytes(b, {0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}) ||  // 64:ff9b:1::/48 local NAT64
      (starts_with_bytes(b, {0x01, 0x00}) && std::memcmp(b + 2, kZero, 6) == 0) ||  // 100::/64
      starts_with_bytes(b, {0x5f, 0x00}) ||  // 5f00::/16 SRv6
      (b[0] & 0xe0) != 0x20) {               // outside 2000::/3, the global unicast space
    return AddressClass::kReserved;
  }
  return AddressClass::kPublic;
}

std::optional<AddressClass> classify_sockaddr(const sockaddr* address) {
  if (address->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(address);
    return classify_v4(ntohl(in->sin_addr.s_addr));
  }
  if (address->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
    return classify_v6(in6->sin6_addr.s6_addr);
  }
  return std::nullopt;
}

std::string numeric_host(const sockaddr* address, socklen_t length) {
  char text[NI_MAXHOST] = {};
  if (getnameinfo(address, length, text, sizeof text, nullptr, 0, NI_NUMERICHOST) != 0) return {};
  return text;
}

bool is_host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

}  // namespace

Result<ParsedUrl> parse_webhook_url(std::string_view url) {
  if (url.size() > kMaxUrlBytes) {
    return invalid("webhook url is " + std::to_string(url.size()) + " bytes; at most " +
                   std::to_string(kMaxUrlBytes) + " are allowed");
  }
  for (char c : url) {
    auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7f) {
      return invalid(
          "webhook url must be printable ASCII without spaces (percent-encode the "
          "rest, punycode for hostnames)");
    }
  }
  ParsedUrl parsed;
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos)
    return invalid("webhook url must be http(s)://host/...");
  for (char c : url.substr(0, scheme_end)) {
    parsed.scheme += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (parsed.scheme != "http" && parsed.scheme != "https") {
    return invalid("webhook url must use http or https, not '" + parsed.scheme + "'");
  }
  std::string_view rest = url.substr(scheme_end + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.find('@') != std::string_view::npos) {
    return invalid("webhook url must not carry a user name or password ('user@host')");
  }
  std::string_view port_text;
  if (authority.starts_with('[')) {
    auto close = authority.find(']');
    if (close == std::string_view::npos)
      return invalid("webhook url has an unclosed '[' in its host");
    parsed.host = std::string(authority.substr(1, close - 1));
    parsed.ipv6_literal = true;
    in6_addr ignored{};
    if (inet_pton(AF_INET6, parsed.host.c_str(), &ignored) != 1) {
      return invalid("webhook url host [" + parsed.host + "] is not an IPv6 address");
    }
    auto after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(':'))
      return invalid("webhook url has a malformed host");
    if (!after.empty()) port_text = after.substr(1);
    if (after == ":") port_text = ":";  // an empty port is refused below
  } else {
    auto colon = authority.find(':');
    parsed.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
    if (colon != std::string_view::npos && port_text.empty()) port_text = ":";
    if (!std::all_of(parsed.host.begin(), parsed.host.end(), is_host_char)) {
      return invalid("webhook url host '" + parsed.host + "' has characters a hostname cannot");
    }
  }
  if (parsed.host.empty()) return invalid("webhook url has no host");
  parsed.port = parsed.scheme == "https" ? 443 : 80;
  if (!port_text.empty()) {
    int port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 1 ||
        port > 65535) {
      return invalid("webhook url has an invalid port '" + std::string(port_text) + "'");
    }
    parsed.port = port;
  }
  return parsed;
}

std::string_view address_class_name(AddressClass address_class) {
  switch (address_class) {
    case AddressClass::kPublic:
      return "public";
    case AddressClass::kUnspecified:
      return "unspecified";
    case AddressClass::kLoopback:
      return "loopback";
    case AddressClass::kPrivate:
      return "private";
    case AddressClass::kLinkLocal:
      return "link-local";
    case AddressClass::kSharedAddress:
      return "carrier-grade NAT";
    case AddressClass::kMulticast:
      return "multicast";
    case AddressClass::kBroadcast:
      return "broadcast";
    case AddressClass::kDocumentation:
      return "documentation";
    case AddressClass::kReserved:
      return "reserved";
  }
  return "reserved";
}

std::optional<AddressClass> classify_address(std::string_view address) {
  std::string text(address);
  in_addr a4{};
  if (inet_pton(AF_INET, text.c_str(), &a4) == 1) return classify_v4(ntohl(a4.s_addr));
  in6_addr a6{};
  if (inet_pton(AF_INET6, text.c_str(), &a6) == 1) return classify_v6(a6.s6_addr);
  return std::nullopt;
}

std::string ResolvedTarget::curl_resolve_entry() const {
  if (host_is_address || addresses.empty()) return {};
  std::string entry = url.host + ":" + std::to_string(url.port) + ":";
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    if (i > 0) entry += ',';
    bool v6 = addresses[i].find(':') != std::string::npos;
    entry += v6 ? "[" + addresses[i] + "]" : addresses[i];
  }
  return entry;
}

Result<ResolvedTarget> resolve_target(const std::string& url, bool allow_private) {
  auto parsed = parse_webhook_url(url);
  if (!parsed) return parsed.error();
  ResolvedTarget target;
  target.url = std::move(*parsed);
  const std::string& host = target.url.host;

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST;
  addrinfo* found = nullptr;
  // A numeric host (including inet_aton forms such as 127.1 or 0x7f.1) needs no DNS.
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found);
  target.host_is_address = rc == 0;
  if (rc != 0) {
    hints.ai_flags = 0;
    rc = getaddrinfo(host.c_str(), nullptr, &hints, &found);
  }
  if (rc != 0) {
    return make_error(ErrorCode::kNetwork,
                      "webhook target " + host + " does not resolve: " + gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned(found, freeaddrinfo);
  for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    auto address_class = classify_sockaddr(ai->ai_addr);
    if (!address_class) continue;
    std::string address = numeric_host(ai->ai_addr, ai->ai_addrlen);
    if (address.empty()) continue;
    if (*address_class != AddressClass::kPublic && !allow_private) {
      std::string shown = address == host ? address : host + " (" + address + ")";
      std::string kind = *address_class == AddressClass::kPrivate
                             ? ""
                             : " (" + std::string(address_class_name(*address_class)) + ")";
      return invalid("webhook target " + shown + " is on a private network" + kind +
                     "; set LOOKALIKE_WEBHOOK_ALLOW_PRIVATE=1 to allow");
    }
    if (std::find(target.addresses.begin(), target.addresses.end(), address) ==
        target.addresses.end()) {
      target.addresses.push_back(std::move(address));
    }
  }
  if (target.addresses.empty()) {
    return make_error(ErrorCode::kNetwork, "webhook target " + host + " has no IP address");
  }
  return target;
}

}  // namespace lookalike
