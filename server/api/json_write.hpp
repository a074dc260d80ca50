#pragma once
// Writing JSON text straight into a std::string, for the hot responses (GET /v1/client) that would otherwise
// build a DOM only to serialize it once. Every function here emits exactly the bytes boost::json::serialize
// emits for the same value (same escapes, same number formatting), so a response written with these helpers
// and one serialized from a DOM are interchangeable — tests/unit/server/json_write_test.cpp checks that.
#include <boost/json/serializer.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace latchkey::server::api::json_write {

namespace detail {

/// True when one of the 8 bytes of `w` needs an escape (< 0x20, '"' or '\\'): the classic SWAR zero-byte
/// tests, so plain text (ids, tokens, names) is scanned a word at a time.
constexpr bool word_needs_escape(std::uint64_t w) noexcept {
    constexpr std::uint64_t ones = 0x0101010101010101ull;
    constexpr std::uint64_t highs = 0x8080808080808080ull;
    auto has_zero = [](std::uint64_t x) { return ((x - ones) & ~x & highs) != 0; };
    bool const control = ((w - ones * 0x20) & ~w & highs) != 0;  // some byte < 0x20 (bytes >= 0x80 excluded)
    return control || has_zero(w ^ (ones * '"')) || has_zero(w ^ (ones * '\\'));
}

constexpr bool byte_needs_escape(char c) noexcept {
    return static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\';
}

}  // namespace detail

/// A JSON string literal, escaped as Boost.JSON's serializer does: `"` and `\`, the short escapes \b \t \n \f
/// \r, every other control character as \u00xx (lowercase hex); everything else (including DEL and UTF-8
/// bytes) verbatim.
inline void string(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    out.push_back('"');
    char const* p = s.data();
    char const* const end = p + s.size();
    while (p != end) {
        // The common case is a run of plain characters: find its end a word at a time, copy it in one append.
        char const* q = p;
        while (end - q >= 8) {
            std::uint64_t w;
            std::memcpy(&w, q, 8);
            if (detail::word_needs_escape(w)) break;
            q += 8;
        }
        while (q != end && !detail::byte_needs_escape(*q)) ++q;
        out.append(p, q);
        if (q == end) break;
        auto const c = static_cast<unsigned char>(*q);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\r':
                out += "\\r";
                break;
            default: {
                char const u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]};
                out.append(u, sizeof u);
            }
        }
        p = q + 1;
    }
    out.push_back('"');
}

/// A string, or null when empty (the views' convention for optional text fields).
inline void string_or_null(std::string& out, std::string_view s) {
    if (s.empty())
        out += "null";
    else
        string(out, s);
}

inline void integer(std::string& out, std::int64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

inline void boolean(std::string& out, bool v) { out += v ? "true" : "false"; }

/// Appends the serialization of a DOM value (the rare parts of a hot response, e.g. an actor claim or a
/// sign-in attempt) without the temporary std::string boost::json::serialize would return.
inline void value(std::string& out, boost::json::value const& v) {
    boost::json::serializer sr;
    sr.reset(&v);
    while (!sr.done()) {
        std::size_t const old = out.size();
        std::size_t const room = std::max<std::size_t>(512, out.capacity() - old);
        out.resize(old + room);
        auto const written = sr.read(out.data() + old, room);
        out.resize(old + written.size());
    }
}

}  // namespace latchkey::server::api::json_write
