// Where webhooks may be sent: parses a target URL, resolves its host (getaddrinfo) and refuses
// it when any address is loopback, private, link-local (cloud metadata), CGNAT, multicast or
// otherwise not public, unless private targets are allowed. The checked addresses are returned so
// that the delivery connects to exactly those (CURLOPT_RESOLVE): no DNS rebinding in between.
// Thread-safety: free functions without shared state (getaddrinfo is thread-safe).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace lookalike {

// The parts of an http(s) URL a webhook needs. `host` is as written (brackets stripped from IPv6
// literals), `port` is explicit or the scheme's default.
struct ParsedUrl {
  std::string scheme;  // "http" or "https", lowercase
  std::string host;
  int port = 0;
  bool ipv6_literal = false;
};

// kInvalidArgument for anything but http(s)://host[:port][/path...] of at most 2048 bytes of
// printable ASCII without user information ("user:pass@"), zone ids or an empty host.
Result<ParsedUrl> parse_webhook_url(std::string_view url);

enum class AddressClass {
  kPublic,
  kUnspecified,    // 0.0.0.0/8, ::
  kLoopback,       // 127/8, ::1
  kPrivate,        // RFC 1918, fc00::/7 unique local, fec0::/10 site-local
  kLinkLocal,      // 169.254/16 (cloud metadata 169.254.169.254), fe80::/10
  kSharedAddress,  // 100.64/10 carrier-grade NAT
  kMulticast,      // 224/4, ff00::/8
  kBroadcast,      // 255.255.255.255
  kDocumentation,  // TEST-NET-1/2/3, 2001:db8::/32, 3fff::/20
  kReserved,       // 240/4, benchmarking, IETF protocol space, 6to4 relay, discard, ...
};

std::string_view address_class_name(AddressClass address_class);

// The class of a numeric IPv4 or IPv6 address (standard dotted or colon form, as getaddrinfo
// writes them); IPv4-mapped, IPv4-compatible, NAT64 and 6to4 IPv6 addresses are classified by
// the IPv4 address they carry. nullopt when `address` is not a numeric address.
std::optional<AddressClass> classify_address(std::string_view address);

struct ResolvedTarget {
  ParsedUrl url;
  std::vector<std::string> addresses;  // every address the host resolved to, all checked
  // True when the host is itself an address (no DNS lookup to pin).
  bool host_is_address = false;

  // The CURLOPT_RESOLVE entry "host:port:a,[b::1]" pinning every checked address; empty when
  // the host is an address.
  std::string curl_resolve_entry() const;
};

// Parses `url`, resolves its host and checks every address. Errors: kInvalidArgument for a
// malformed URL or a non-public address when !allow_private ("webhook target 10.0.0.5 is on a
// private network; set LOOKALIKE_WEBHOOK_ALLOW_PRIVATE=1 to allow", with the class in
// parentheses for the other kinds: "(loopback)", "(link-local)"...), kNetwork when the host does
// not resolve (worth trying again later).
Result<ResolvedTarget> resolve_target(const std::string& url, bool allow_private);

}  // namespace lookalike
