#include "webhooks/url_policy.h"

#include <string>

#include <gtest/gtest.h>

#include "webhooks/webhook.h"

namespace lookalike {
namespace {

TEST(ClassifyAddress, Table) {
  struct Case {
    const char* address;
    AddressClass expected;
  };
  const Case cases[] = {
      {"93.184.216.34", AddressClass::kPublic},
      {"8.8.8.8", AddressClass::kPublic},
      {"1.1.1.1", AddressClass::kPublic},
      {"172.32.0.1", AddressClass::kPublic},   // just past 172.16/12
      {"100.128.0.1", AddressClass::kPublic},  // just past 100.64/10
      {"192.169.0.1", AddressClass::kPublic},
      {"0.0.0.0", AddressClass::kUnspecified},
      {"0.1.2.3", AddressClass::kUnspecified},
      {"127.0.0.1", AddressClass::kLoopback},
      {"127.255.255.254", AddressClass::kLoopback},
      {"10.0.0.5", AddressClass::kPrivate},
      {"172.16.0.1", AddressClass::kPrivate},
      {"172.31.255.255", AddressClass::kPrivate},
      {"192.168.1.1", AddressClass::kPrivate},
      {"169.254.169.254", AddressClass::kLinkLocal},  // cloud metadata
      {"169.254.0.1", AddressClass::kLinkLocal},
      {"100.64.0.1", AddressClass::kSharedAddress},
      {"100.127.255.255", AddressClass::kSharedAddress},
      {"224.0.0.1", AddressClass::kMulticast},
      {"239.255.255.250", AddressClass::kMulticast},
      {"255.255.255.255", AddressClass::kBroadcast},
      {"240.0.0.1", AddressClass::kReserved},
      {"198.18.0.1", AddressClass::kReserved},
      {"192.0.0.8", AddressClass::kReserved},
      {"192.0.2.1", AddressClass::kDocumentation},
      {"198.51.100.7", AddressClass::kDocumentation},
      {"203.0.113.9", AddressClass::kDocumentation},
      // IPv6
      {"2606:4700:4700::1111", AddressClass::kPublic},
      {"2a00:1450:4001:80b::200e", AddressClass::kPublic},
      {"::", AddressClass::kUnspecified},
      {"::1", AddressClass::kLoopback},
      {"fc00::1", AddressClass::kPrivate},
      {"fd12:3456:789a::1", AddressClass::kPrivate},
      {"fec0::1", AddressClass::kPrivate},
      {"fe80::1", AddressClass::kLinkLocal},
      {"febf::1", AddressClass::kLinkLocal},
      {"ff02::1", AddressClass::kMulticast},
      {"2001:db8::1", AddressClass::kDocumentation},
      {"2001::1", AddressClass::kReserved},  // Teredo
      {"100::1", AddressClass::kReserved},
      {"::ffff:127.0.0.1", AddressClass::kLoopback},  // IPv4-mapped
      {"::ffff:10.0.0.5", AddressClass::kPrivate},
      {"::ffff:169.254.169.254", AddressClass::kLinkLocal},
      {"::ffff:8.8.8.8", AddressClass::kPublic},
      {"::127.0.0.1", AddressClass::kLoopback},    // IPv4-compatible
      {"64:ff9b::a00:5", AddressClass::kPrivate},  // NAT64 of 10.0.0.5
      {"64:ff9b::808:808", AddressClass::kPublic},
      {"2002:a00:5::1", AddressClass::kPrivate},  // 6to4 of 10.0.0.5
      {"2002:7f00:1::1", AddressClass::kLoopback},
  };
  for (const auto& c : cases) {
    auto got = classify_address(c.address);
    ASSERT_TRUE(got.has_value()) << c.address;
    EXPECT_EQ(*got, c.expected) << c.address << " is " << address_class_name(*got);
  }
  EXPECT_FALSE(classify_address("example.com").has_value());
  EXPECT_FALSE(classify_address("").has_value());
}

TEST(ParseWebhookUrl, AcceptsHttpAndHttps) {
  auto a = parse_webhook_url("https://hooks.example.com/lookalike?x=1");
  ASSERT_TRUE(a.ok()) << a.error().to_string();
  EXPECT_EQ(a->scheme, "https");
  EXPECT_EQ(a->host, "hooks.example.com");
  EXPECT_EQ(a->port, 443);
  auto b = parse_webhook_url("HTTP://Example.com:8080");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->scheme, "http");
  EXPECT_EQ(b->port, 8080);
  auto c = parse_webhook_url("http://[2606:4700:4700::1111]:9000/x");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->host, "2606:4700:4700::1111");
  EXPECT_TRUE(c->ipv6_literal);
  EXPECT_EQ(c->port, 9000);
}

TEST(ParseWebhookUrl, RejectsTheRest) {
  for (const char* url :
       {"ftp://example.com/", "example.com/hook", "https://user:pass@example.com/",
        "https://user@example.com/", "https:///path", "https://:80/", "https://example.com:0/",
        "https://example.com:65536/", "https://example.com:/", "https://exa mple.com/",
        "https://example.com/\n", "https://[fe80::1%25eth0]/", "https://[::1/",
        "https://ex%41mple.com/", "file:///etc/passwd", "javascript://x"}) {
    auto parsed = parse_webhook_url(url);
    EXPECT_FALSE(parsed.ok()) << url;
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument) << url;
    }
  }
  std::string long_url = "https://example.com/" + std::string(2048, 'a');
  EXPECT_FALSE(parse_webhook_url(long_url).ok());
  std::string limit = "https://example.com/";
  limit += std::string(2048 - limit.size(), 'a');
  EXPECT_TRUE(parse_webhook_url(limit).ok());
}

TEST(ResolveTarget, RefusesPrivateLiteralsWithAClearMessage) {
  auto refused = resolve_target("http://10.0.0.5/hook", false);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(refused.error().message,
            "webhook target 10.0.0.5 is on a private network; set "
            "LOOKALIKE_WEBHOOK_ALLOW_PRIVATE=1 to allow");
  auto metadata = resolve_target("http://169.254.169.254/latest/meta-data", false);
  ASSERT_FALSE(metadata.ok());
  EXPECT_NE(metadata.error().message.find("169.254.169.254 is on a private network (link-local)"),
            std::string::npos)
      << metadata.error().message;
  for (const char* url : {"http://127.0.0.1:8080/", "http://169.254.169.254/latest/meta-data",
                          "http://100.64.1.1/", "http://0.0.0.0/", "http://[::1]/",
                          "http://[fd00::1]/", "http://[fe80::1]/", "http://[::ffff:127.0.0.1]/",
                          "http://224.0.0.1/", "http://255.255.255.255/", "http://240.0.0.1/"}) {
    auto result = resolve_target(url, false);
    EXPECT_FALSE(result.ok()) << url;
    if (!result.ok()) {
      EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument) << url;
      EXPECT_NE(result.error().message.find("LOOKALIKE_WEBHOOK_ALLOW_PRIVATE=1"),
                std::string::npos);
    }
  }
}

TEST(ResolveTarget, NumericTricksResolveToLoopback) {
  // glibc's getaddrinfo reads these as inet_aton does, as libcurl and browsers would.
  for (const char* url : {"http://2130706433/", "http://0x7f.1/", "http://127.1/",
                          "http://0177.0.0.1/", "http://0x7f000001/"}) {
    auto result = resolve_target(url, false);
    ASSERT_FALSE(result.ok()) << url;
    EXPECT_NE(result.error().message.find("127.0.0.1"), std::string::npos)
        << result.error().message;
  }
}

TEST(ResolveTarget, LocalhostIsRefusedUnlessAllowed) {
  auto refused = resolve_target("http://localhost:9/", false);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("localhost ("), std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find("loopback"), std::string::npos);

  auto allowed = resolve_target("http://localhost:9/", true);
  ASSERT_TRUE(allowed.ok()) << allowed.error().to_string();
  EXPECT_FALSE(allowed->host_is_address);
  ASSERT_FALSE(allowed->addresses.empty());
  std::string entry = allowed->curl_resolve_entry();
  EXPECT_EQ(entry.rfind("localhost:9:", 0), 0u) << entry;
  EXPECT_NE(entry.find("127.0.0.1"), std::string::npos) << entry;
}

TEST(ResolveTarget, PublicLiteralsAreAccepted) {
  auto v4 = resolve_target("https://93.184.216.34/hook", false);
  ASSERT_TRUE(v4.ok()) << v4.error().to_string();
  EXPECT_TRUE(v4->host_is_address);
  EXPECT_EQ(v4->addresses, std::vector<std::string>{"93.184.216.34"});
  EXPECT_EQ(v4->url.port, 443);
  EXPECT_EQ(v4->curl_resolve_entry(), "");  // nothing to pin: there is no lookup
  auto v6 = resolve_target("http://[2606:4700:4700::1111]:8080/", false);
  ASSERT_TRUE(v6.ok()) << v6.error().to_string();
  EXPECT_EQ(v6->addresses, std::vector<std::string>{"2606:4700:4700::1111"});
}

TEST(ResolveTarget, PinEntryBracketsIpv6) {
  ResolvedTarget target;
  target.url.host = "hooks.example.com";
  target.url.port = 443;
  target.addresses = {"93.184.216.34", "2606:2800:220:1::1"};
  EXPECT_EQ(target.curl_resolve_entry(),
            "hooks.example.com:443:93.184.216.34,[2606:2800:220:1::1]");
}

TEST(ResolveTarget, UnresolvableHostIsANetworkError) {
  auto result = resolve_target("https://no-such-host.invalid/", false);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kNetwork);
}

TEST(ValidateWebhookRequest, UrlAndEvents) {
  EXPECT_TRUE(validate_webhook_request("https://example.com/h", {"product.created"}).ok());
  EXPECT_TRUE(validate_webhook_request("http://example.com/h",
                                       {"product.created", "product.updated", "product.deleted",
                                        "job.completed", "job.failed"})
                  .ok());
  EXPECT_FALSE(validate_webhook_request("https://example.com/h", {}).ok());
  EXPECT_FALSE(validate_webhook_request("https://example.com/h", {"product.exploded"}).ok());
  EXPECT_FALSE(
      validate_webhook_request("https://example.com/h", {"job.failed", "job.failed"}).ok());
  EXPECT_FALSE(validate_webhook_request("gopher://example.com/h", {"job.failed"}).ok());
  EXPECT_FALSE(validate_webhook_request("https://u:p@example.com/h", {"job.failed"}).ok());
  auto bad = validate_webhook_request("https://example.com/h", {"nope"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("product.created"), std::string::npos);
}

}  // namespace
}  // namespace lookalike
