// Fuzz: the instance's site (server/api/site.hpp), which every FAPI request's Origin header and the handshake's
// redirect target reach. Whatever the input: an accepted origin is a plain DNS name (or IPv4) with a port, and
// re-serialising it parses to the same; a registrable domain holds the host on a label boundary and is never a
// public suffix; `within` never matches across a label boundary.
#include "harness.hpp"
#include "server/api/site.hpp"

#include <cstdint>
#include <string>

namespace site = latchkey::server::site;

void fuzz_one(std::string_view in) {
    if (auto o = site::parse_origin(in)) {
        if (o->host.empty() || o->host.size() > 253 || o->port == 0) __builtin_trap();
        if (o->host.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-") != std::string::npos) __builtin_trap();
        auto again = site::parse_origin(o->scheme + "://" + o->host + ":" + std::to_string(o->port));
        if (!again || again->host != o->host || again->port != o->port || again->scheme != o->scheme) __builtin_trap();
        if (auto d = site::registrable_domain(o->host)) {
            if (!site::within(o->host, *d)) __builtin_trap();
            if (site::is_public_suffix(*d) || d->find('.') == std::string::npos) __builtin_trap();
        }
    }
    // The raw input as a host name.
    if (auto d = site::registrable_domain(in)) {
        if (d->empty() || d->front() == '.' || d->back() == '.' || site::is_public_suffix(*d)) __builtin_trap();
    }
    // within: a match is the domain itself or ends with "." + domain.
    auto const cut = in.find('|');
    if (cut != std::string_view::npos) {
        auto host = in.substr(0, cut), domain = in.substr(cut + 1);
        if (site::within(host, domain) && !domain.empty() && host != domain &&
            (host.size() <= domain.size() || host[host.size() - domain.size() - 1] != '.'))
            __builtin_trap();
    }
}
