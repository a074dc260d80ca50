#include "server/http/params.hpp"

#include "server/http/router.hpp"

namespace latchkey::server {

std::vector<std::string> params::all(std::string_view key, bool split_commas) const {
    std::vector<std::string> out;
    for (auto const& kv : items_) {
        if (kv.first != key) continue;
        if (!split_commas || kv.second.find(',') == std::string::npos) {
            out.push_back(kv.second);
            continue;
        }
        std::string_view v = kv.second;
        while (true) {
            auto c = v.find(',');
            if (!v.substr(0, c).empty()) out.emplace_back(v.substr(0, c));
            if (c == std::string_view::npos) break;
            v.remove_prefix(c + 1);
        }
    }
    return out;
}

bool percent_decode(std::string_view in, std::string& out, bool plus_is_space) {
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    out.reserve(out.size() + in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c == '%') {
            int hi = i + 1 < in.size() ? hex(in[i + 1]) : -1;
            int lo = i + 2 < in.size() ? hex(in[i + 2]) : -1;
            if (hi < 0 || lo < 0) return false;
            out.push_back(static_cast<char>((hi << 4) | lo));
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return true;
}

bool valid_utf8(std::string_view s) noexcept {
    auto const* p = reinterpret_cast<unsigned char const*>(s.data());
    std::size_t n = s.size();
    std::size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t len = 0;
        std::uint32_t cp = 0;
        if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + len > n) return false;
        for (std::size_t k = 1; k < len; ++k) {
            if ((p[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

parse_status parse_urlencoded(std::string_view text, params& out, std::size_t max_field, std::size_t max_fields) {
    std::size_t count = 0;
    while (!text.empty()) {
        auto amp = text.find('&');
        std::string_view pair = text.substr(0, amp);
        text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
        if (pair.empty()) continue;
        if (++count > max_fields) return parse_status::too_many_fields;
        auto eq = pair.find('=');
        std::string_view k = pair.substr(0, eq);
        std::string_view v = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
        if (k.size() > 3 * max_field || v.size() > 3 * max_field) return parse_status::field_too_large;
        std::string key;
        std::string value;
        if (!percent_decode(k, key, true) || !percent_decode(v, value, true)) return parse_status::malformed;
        if (key.size() > max_field || value.size() > max_field) return parse_status::field_too_large;
        if (!valid_utf8(key) || !valid_utf8(value)) return parse_status::malformed;
        if (key.empty()) return parse_status::malformed;
        out.add(std::move(key), std::move(value));
    }
    return parse_status::ok;
}

void parse_cookies(std::string_view header, params& out) {
    while (!header.empty()) {
        auto semi = header.find(';');
        std::string_view pair = header.substr(0, semi);
        header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
        pair = trim_ows(pair);
        auto eq = pair.find('=');
        if (eq == std::string_view::npos || eq == 0) continue;
        std::string_view name = pair.substr(0, eq);
        std::string_view value = pair.substr(eq + 1);
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
        if (name.size() > 256 || value.size() > 8192) continue;
        out.add(std::string(name), std::string(value));
    }
}

}  // namespace latchkey::server
