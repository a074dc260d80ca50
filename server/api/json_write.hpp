#pragma once
// Writing JSON text straight into a std::string, for the hot responses (GET /v1/client) that would otherwise
// build a DOM only to serialize it once. Every function here emits exactly the bytes boost::json::serialize
// emits for the same value (same escapes, same number formatting), so a response written with these helpers
// and one serialized from a DOM are interchangeable — tests/unit/server/json_write_test.cpp checks that.
#include <boost/json/serializer.hpp>
#include <boost/json/value.hpp>

#include "store/log.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace latchkey::server::api::json_write {

/// A JSON string literal, escaped as Boost.JSON's serializer does (the one JSON escaper: store/log.hpp).
inline void string(std::string& out, std::string_view s) { store::append_json_string(out, s); }

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
