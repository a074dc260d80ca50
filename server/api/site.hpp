#pragma once
// The instance's site: the registrable domain its FAPI and its app share (clerk.example.com serving
// example.com and *.example.com), found with the Public Suffix List (libpsl's built-in list, the one browsers
// apply to cookies), and the origins on it. Pure functions: no I/O.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace latchkey::server::site {

/// `scheme://host[:port]` as a browser serialises an Origin, split; the port is the effective one (443/80 when
/// absent). The host is lowercased; it must be a DNS name (letters, digits, '-', '.') or an IPv4 literal.
struct origin_parts {
    std::string scheme;  ///< "http" | "https"
    std::string host;
    std::uint16_t port = 0;
};
std::optional<origin_parts> parse_origin(std::string_view origin);

/// True for a dotted-quad IPv4 literal (or any bracketed IPv6 literal).
bool is_ip_literal(std::string_view host);

/// True when `host` is itself a public suffix (com, co.uk, github.io, and any single label such as localhost).
bool is_public_suffix(std::string_view host);

/// The registrable domain (eTLD+1) of a DNS host name (lowercase, no port): "example.com" for
/// "clerk.example.com", "foo.co.uk" for "a.foo.co.uk". nullopt for IP literals, single labels, public suffixes
/// and malformed names: nothing a cookie or an origin rule may be scoped to.
std::optional<std::string> registrable_domain(std::string_view host);

/// True when `host` is `domain` or a subdomain of it (label boundary: "evilexample.test" is not in "example.test").
bool within(std::string_view host, std::string_view domain);

}  // namespace latchkey::server::site
