#include "server/api/site.hpp"

#include <libpsl.h>

#include <cctype>

namespace latchkey::server::site {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

/// A DNS name as browsers put it in an Origin: labels of [a-z0-9-], 1..63 bytes, not starting or ending with
/// '-', at most 253 bytes, no empty label (so no leading, trailing or double dot).
bool dns_name(std::string_view h) {
    if (h.empty() || h.size() > 253) return false;
    std::size_t label = 0;
    char prev = '.';
    for (char c : h) {
        if (c == '.') {
            if (label == 0 || prev == '-') return false;
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
            if (c == '-' && label == 0) return false;
            if (++label > 63) return false;
        } else {
            return false;
        }
        prev = c;
    }
    return label != 0 && prev != '-';
}

psl_ctx_t const* list() {
    static psl_ctx_t const* const l = psl_builtin();
    return l;
}

}  // namespace

bool is_ip_literal(std::string_view h) {
    if (h.starts_with('[')) return true;
    int parts = 0;
    std::size_t digits = 0;
    for (char c : h) {
        if (c == '.') {
            if (digits == 0) return false;
            ++parts;
            digits = 0;
        } else if (c >= '0' && c <= '9') {
            if (++digits > 3) return false;
        } else {
            return false;
        }
    }
    return digits != 0 && parts == 3;
}

std::optional<origin_parts> parse_origin(std::string_view o) {
    origin_parts p;
    std::string_view rest;
    if (o.starts_with("https://")) {
        p.scheme = "https";
        p.port = 443;
        rest = o.substr(8);
    } else if (o.starts_with("http://")) {
        p.scheme = "http";
        p.port = 80;
        rest = o.substr(7);
    } else {
        return std::nullopt;
    }
    auto colon = rest.find(':');
    std::string_view host = rest.substr(0, colon);
    if (colon != std::string_view::npos) {
        std::string_view port = rest.substr(colon + 1);
        if (port.empty() || port.size() > 5) return std::nullopt;
        unsigned v = 0;
        for (char c : port) {
            if (c < '0' || c > '9') return std::nullopt;
            v = v * 10 + static_cast<unsigned>(c - '0');
        }
        if (v == 0 || v > 65535) return std::nullopt;
        p.port = static_cast<std::uint16_t>(v);
    }
    p.host = lower(host);
    if (!dns_name(p.host)) return std::nullopt;  // also refuses '/', '@', '\\', '%', spaces and control bytes
    return p;
}

bool is_public_suffix(std::string_view host) {
    std::string const h = lower(host);
    if (h.find('.') == std::string::npos) return true;  // a single label (localhost, com, test)
    return psl_is_public_suffix2(list(), h.c_str(), PSL_TYPE_ANY) != 0;
}

std::optional<std::string> registrable_domain(std::string_view host) {
    std::string const h = lower(host);
    if (!dns_name(h) || is_ip_literal(h) || is_public_suffix(h)) return std::nullopt;
    char const* d = psl_registrable_domain(list(), h.c_str());
    if (d == nullptr) return std::nullopt;
    std::string out(d);  // points into h
    if (is_public_suffix(out)) return std::nullopt;
    return out;
}

bool within(std::string_view host, std::string_view domain) {
    if (domain.empty() || host.size() < domain.size()) return false;
    if (host == domain) return true;
    return host.size() > domain.size() && host.ends_with(domain) && host[host.size() - domain.size() - 1] == '.';
}

}  // namespace latchkey::server::site
