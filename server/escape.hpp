#pragma once
// Escaping text for the markup and the URLs the server writes: the API's HTML pages (the portal, the OAuth consent
// page) and the SAML module's XML (AuthnRequest, redirect binding) share these. Header-only and including nothing
// of ours, so server/saml (a library of its own) and server/api both include it without an arrow running back up.
#include <string>
#include <string_view>

namespace latchkey::server {

/// Appends `text` escaped for HTML or XML element content and double- or single-quoted attribute values: & < > "
/// and the apostrophe as the numeric reference &#39;, which HTML and XML both read.
inline void append_markup_escaped(std::string& out, std::string_view text) {
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out.push_back(c);
        }
    }
}

inline std::string markup_escaped(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    append_markup_escaped(out, text);
    return out;
}

/// RFC 3986 percent-encoding for a query component: the unreserved characters (ALPHA DIGIT - . _ ~) as they are,
/// every other byte as %XX with uppercase hex.
inline std::string percent_encoded(std::string_view text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (char ch : text) {
        auto const c = static_cast<unsigned char>(ch);
        bool const unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                                c == '-' || c == '.' || c == '_' || c == '~';
        if (unreserved) {
            out.push_back(ch);
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    return out;
}

}  // namespace latchkey::server
