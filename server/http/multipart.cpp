#include "server/http/multipart.hpp"

#include "server/http/params.hpp"

#include <algorithm>
#include <functional>
#include <string>

namespace latchkey::server {

namespace {

constexpr char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

/// RFC 2046 bchars: DIGIT / ALPHA / "'" / "(" / ")" / "+" / "_" / "," / "-" / "." / "/" / ":" / "=" / "?" / SP.
bool bchar(char c) noexcept {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
    return std::string_view("'()+_,-./:=? ").find(c) != std::string_view::npos;
}

/// RFC 9110 tchar (header field names, parameter names, token values).
bool tchar(char c) noexcept {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

/// Walks `; name=value` parameters (value a token or a quoted string, taken verbatim between the quotes; a
/// quoted string with a backslash escape is refused rather than unescaped). Calls f(name, value) for each;
/// false on a syntax error or when f returns false.
template <class F>
bool each_param(std::string_view rest, F&& f) {
    for (;;) {
        rest = trim_ows(rest);
        if (rest.empty()) return true;
        if (rest.front() != ';') return false;
        rest.remove_prefix(1);
        rest = trim_ows(rest);
        if (rest.empty()) return true;  // a trailing ';' is tolerated
        std::size_t n = 0;
        while (n < rest.size() && tchar(rest[n])) ++n;
        if (n == 0) return false;
        std::string_view const name = rest.substr(0, n);
        rest.remove_prefix(n);
        rest = trim_ows(rest);
        if (rest.empty() || rest.front() != '=') return false;
        rest.remove_prefix(1);
        rest = trim_ows(rest);
        std::string_view value;
        if (!rest.empty() && rest.front() == '"') {
            auto close = rest.find('"', 1);
            if (close == std::string_view::npos) return false;
            value = rest.substr(1, close - 1);
            if (value.find('\\') != std::string_view::npos) return false;
            rest.remove_prefix(close + 1);
        } else {
            std::size_t m = 0;
            while (m < rest.size() && tchar(rest[m])) ++m;
            if (m == 0) return false;
            value = rest.substr(0, m);
            rest.remove_prefix(m);
        }
        for (char c : value)
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
        if (!f(name, value)) return false;
    }
}

/// The type/subtype before the parameters, and the parameters.
std::pair<std::string_view, std::string_view> split_media_type(std::string_view v) noexcept {
    auto semi = v.find(';');
    return {trim_ows(v.substr(0, semi)), semi == std::string_view::npos ? std::string_view{} : v.substr(semi)};
}

/// Parses one part's header block (lines without their final CRLF pair) into `p`.
bool parse_part_headers(std::string_view block, multipart_part& p) {
    bool disposition = false;
    bool type = false;
    while (!block.empty()) {
        auto eol = block.find("\r\n");
        std::string_view line = block.substr(0, eol);
        block.remove_prefix(eol == std::string_view::npos ? block.size() : eol + 2);
        if (line.empty() || line.front() == ' ' || line.front() == '\t') return false;  // obs-fold
        for (char c : line)
            if (c == '\r' || c == '\n' || c == '\0') return false;
        auto colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) return false;
        std::string_view const name = line.substr(0, colon);
        for (char c : name)
            if (!tchar(c)) return false;
        std::string_view const value = trim_ows(line.substr(colon + 1));
        if (iequals(name, "content-disposition")) {
            if (disposition) return false;
            disposition = true;
            auto [kind, params] = split_media_type(value);
            if (!iequals(kind, "form-data")) return false;
            bool named = false;
            bool ok = each_param(params, [&](std::string_view k, std::string_view v) {
                if (iequals(k, "name")) {
                    if (named) return false;
                    named = true;
                    p.name = v;
                } else if (iequals(k, "filename")) {
                    if (p.has_filename) return false;
                    p.has_filename = true;
                    p.filename = v;
                }
                return true;  // other parameters (filename*) are ignored, as RFC 7578 4.2 allows
            });
            if (!ok || !named) return false;
        } else if (iequals(name, "content-type")) {
            if (type) return false;
            type = true;
            p.content_type = value;
        }
        // Other headers (Content-Transfer-Encoding is deprecated by RFC 7578 4.7) are ignored.
    }
    return disposition;
}

}  // namespace

std::optional<std::string_view> multipart_boundary(std::string_view content_type, multipart_status* status) noexcept {
    auto fail = [&](multipart_status s) -> std::optional<std::string_view> {
        if (status != nullptr) *status = s;
        return std::nullopt;
    };
    auto [kind, params] = split_media_type(content_type);
    if (!iequals(kind, "multipart/form-data")) return fail(multipart_status::not_multipart);
    std::optional<std::string_view> boundary;
    bool dup = false;
    bool const ok = each_param(params, [&](std::string_view k, std::string_view v) {
        if (iequals(k, "boundary")) {
            dup = dup || boundary.has_value();
            boundary = v;
        }
        return true;
    });
    if (!ok || dup || !boundary || boundary->empty() || boundary->size() > 70 || boundary->back() == ' ')
        return fail(multipart_status::bad_boundary);
    for (char c : *boundary)
        if (!bchar(c)) return fail(multipart_status::bad_boundary);
    if (status != nullptr) *status = multipart_status::ok;
    return boundary;
}

multipart_status parse_multipart(std::string_view content_type, std::string_view body, std::vector<multipart_part>& out,
                                 multipart_limits const& limits) {
    out.clear();
    multipart_status st = multipart_status::ok;
    auto const boundary = multipart_boundary(content_type, &st);
    if (!boundary) return st;
    // "\r\n--" boundary: every delimiter but a first one at the very start of the body.
    std::string delimiter = "\r\n--";
    delimiter += *boundary;
    std::boyer_moore_searcher const search(delimiter.begin(), delimiter.end());
    auto find = [&](std::size_t from) -> std::size_t {
        auto it = std::search(body.begin() + static_cast<std::ptrdiff_t>(from), body.end(), search);
        return it == body.end() ? std::string_view::npos : static_cast<std::size_t>(it - body.begin());
    };
    auto const fail = [&](multipart_status s) {
        out.clear();
        return s;
    };

    std::string_view const dash_boundary = std::string_view(delimiter).substr(2);
    std::size_t pos = 0;
    if (body.starts_with(dash_boundary)) {
        pos = dash_boundary.size();
    } else {
        auto at = find(0);
        if (at == std::string_view::npos) return fail(multipart_status::malformed);
        pos = at + delimiter.size();
    }
    for (;;) {
        // After a delimiter: "--" closes; else optional transport padding and CRLF open the next part.
        std::string_view rest = body.substr(pos);
        if (rest.starts_with("--")) return multipart_status::ok;  // the epilogue is ignored
        std::size_t pad = 0;
        while (pad < rest.size() && (rest[pad] == ' ' || rest[pad] == '\t')) ++pad;
        if (rest.substr(pad, 2) != "\r\n") return fail(multipart_status::malformed);
        pos += pad + 2;
        rest = body.substr(pos);

        if (out.size() == limits.max_parts) return fail(multipart_status::too_many_parts);
        multipart_part part;
        std::string_view block;
        if (rest.starts_with("\r\n")) {
            pos += 2;  // no header lines: refused below (form-data parts must name themselves)
        } else {
            auto const window = rest.substr(0, limits.max_header_bytes + 2);
            auto end = window.find("\r\n\r\n");
            if (end == std::string_view::npos)
                return fail(rest.size() > limits.max_header_bytes ? multipart_status::header_too_large
                                                                  : multipart_status::malformed);
            block = rest.substr(0, end);
            pos += end + 4;
        }
        if (!parse_part_headers(block, part)) return fail(multipart_status::malformed);
        auto const end = find(pos);
        if (end == std::string_view::npos) return fail(multipart_status::malformed);
        part.data = body.substr(pos, end - pos);
        out.push_back(part);
        pos = end + delimiter.size();
    }
}

multipart_part const* find_part(std::vector<multipart_part> const& parts, std::string_view name) noexcept {
    for (auto const& p : parts)
        if (p.name == name) return &p;
    return nullptr;
}

}  // namespace latchkey::server
