#include "server/http/guard.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

namespace latchkey::server {

namespace urls = boost::urls;

bool header_safe(std::string_view v) noexcept {
    for (char c : v)
        if (c == '\r' || c == '\n' || c == '\0') return false;
    return true;
}

bool head_safe(response const& res) {
    for (auto const& f : res)
        if (!header_safe(f.name_string()) || !header_safe(f.value())) return false;
    return header_safe(res.reason());
}

void serialize_head(response const& res, std::string& out) {
    out.clear();
    out += res.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    char code[4] = {char('0' + res.result_int() / 100 % 10), char('0' + res.result_int() / 10 % 10),
                    char('0' + res.result_int() % 10), ' '};
    out.append(code, 4);
    auto reason = res.reason();
    out += header_safe(reason) ? reason : http::obsolete_reason(res.result());
    out += "\r\n";
    for (auto const& f : res) {
        if (!header_safe(f.name_string()) || !header_safe(f.value())) continue;
        out += f.name_string();
        out += ": ";
        out += f.value();
        out += "\r\n";
    }
    out += "\r\n";
}

std::optional<redirect_target> parse_redirect(std::string_view input) {
    if (input.empty() || input.size() > max_redirect_bytes) return std::nullopt;
    for (unsigned char c : input)
        if (c <= 0x20 || c >= 0x7f || c == '\\') return std::nullopt;
    auto parsed = urls::parse_uri(input);
    if (!parsed) return std::nullopt;
    urls::url u(*parsed);
    auto const scheme = u.scheme_id();
    if (scheme != urls::scheme::http && scheme != urls::scheme::https) return std::nullopt;
    if (!u.has_authority() || u.has_userinfo()) return std::nullopt;
    switch (u.host_type()) {
        case urls::host_type::name: {
            auto h = u.encoded_host();
            if (h.empty() || h.find('%') != std::string_view::npos) return std::nullopt;
            break;
        }
        case urls::host_type::ipv4:
        case urls::host_type::ipv6:
            break;
        default:
            return std::nullopt;  // no host, or an IPvFuture literal
    }
    if (u.has_port()) {
        auto p = u.port();
        if (p.empty()) {
            u.remove_port();
        } else {
            if (p.size() > 5) return std::nullopt;
            unsigned n = 0;
            for (char c : p) n = n * 10 + static_cast<unsigned>(c - '0');  // the grammar allows digits only
            if (n == 0 || n > 65535) return std::nullopt;
            if ((scheme == urls::scheme::http && n == 80) || (scheme == urls::scheme::https && n == 443))
                u.remove_port();
        }
    }
    u.normalize();
    redirect_target t;
    t.origin.reserve(u.scheme().size() + 3 + u.encoded_host_and_port().size());
    t.origin += u.scheme();
    t.origin += "://";
    t.origin += u.encoded_host_and_port();
    // Boost.URL 1.81 reads "http://127.0.0.1.evil.example/" as the IPv4 host 127.0.0.1 followed by the path
    // ".evil.example/": after an authority the path must be empty or start with '/' (RFC 3986 path-abempty), so
    // such a parse is refused rather than letting the origin check and the browser see different hosts.
    if (auto p = u.encoded_path(); !p.empty() && p.front() != '/') return std::nullopt;
    // Re-serialised from the parsed parts; where that differs from the parser's own buffer, refuse too.
    t.url = t.origin;
    t.url += u.encoded_path();
    if (u.has_query()) {
        t.url += '?';
        t.url += u.encoded_query();
    }
    if (u.has_fragment()) {
        t.url += '#';
        t.url += u.encoded_fragment();
    }
    if (t.url != u.buffer()) return std::nullopt;
    return t;
}

std::string with_query_param(std::string_view url, std::string_view name, std::string_view value) {
    auto parsed = urls::parse_uri(url);
    if (!parsed) return std::string(url);  // not reached for parse_redirect's output
    urls::url u(*parsed);
    u.params().append({name, value});
    return std::string(u.buffer());
}

}  // namespace latchkey::server
