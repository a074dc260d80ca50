#pragma once
// What a browser running clerk-js does on the wire, for the integration client (tests/common/server_fixture.cpp)
// and the handler harness (tests/handler/harness.cpp) alike: FAPI calls as GET or POST only (other methods ride
// `_method`) with clerk-js's version query, form bodies URL-encoded, and a cookie jar kept from Set-Cookie.
// Header-only and light (no Asio), so both take it without linking each other.
#include <boost/beast/http/verb.hpp>

#include <cctype>
#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace latchkey::test::clerk_js {

/// URL-encodes a form (RFC 3986 unreserved characters kept, everything else %XX).
inline std::string form_encode(std::vector<std::pair<std::string, std::string>> const& form) {
    auto enc = [](std::string const& s) {
        std::string o;
        for (unsigned char c : s) {
            if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
                o.push_back(static_cast<char>(c));
            } else {
                char b[4];
                std::snprintf(b, sizeof b, "%%%02X", c);
                o += b;
            }
        }
        return o;
    };
    std::string out;
    for (auto const& [k, v] : form) {
        if (!out.empty()) out += '&';
        out += enc(k) + "=" + enc(v);
    }
    return out;
}

/// The request line clerk-js sends for `method` `path`: GET stays GET, anything else is a POST (with `_method`
/// when not POST), and the version query is appended.
struct fapi_call {
    boost::beast::http::verb verb = boost::beast::http::verb::get;
    std::string target;
};
inline fapi_call fapi_call_for(std::string const& method, std::string const& path) {
    fapi_call c{boost::beast::http::verb::get, path};
    c.target += path.find('?') == std::string::npos ? '?' : '&';
    c.target += "__clerk_api_version=2025-11-10&_clerk_js_version=6.40.0";
    if (method != "GET") {
        c.verb = boost::beast::http::verb::post;
        if (method != "POST") c.target += "&_method=" + method;
    }
    return c;
}

/// Keeps (or, when expired or emptied, drops) the cookie a Set-Cookie value names, as a browser's jar does.
inline void keep_cookie(std::map<std::string, std::string>& jar, std::string const& set_cookie) {
    auto const eq = set_cookie.find('=');
    auto const semi = set_cookie.find(';');
    if (eq == std::string::npos || eq > semi) return;
    std::string name = set_cookie.substr(0, eq);
    std::string value = set_cookie.substr(eq + 1, semi == std::string::npos ? std::string::npos : semi - eq - 1);
    bool const expired = set_cookie.find("Max-Age=0") != std::string::npos;
    if (expired || value.empty())
        jar.erase(name);
    else
        jar[name] = std::move(value);
}

}  // namespace latchkey::test::clerk_js
