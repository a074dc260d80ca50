#pragma once
// The private, versioned record codec: one format for every described record (store/records.hpp).
// Layout: a version byte (1), then the struct as <member count varint><members...>. Strings are
// <len varint><bytes>, bools one byte, integers zigzag varints, vectors <count varint><items...>, nested
// described structs recursively. A reader that knows more members than were written leaves the missing
// trailing ones at their defaults (records only ever grow at the end). Every read is bounds-checked:
// garbage decodes to errc::corrupted, never to undefined behaviour.
#include "store/error.hpp"

#include <boost/describe/members.hpp>
#include <boost/mp11/algorithm.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace latchkey::store {

namespace codec_detail {

inline void put_varint(std::string& out, std::uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<char>((v & 0x7f) | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<char>(v));
}

inline bool get_varint(std::string_view& in, std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (in.empty()) return false;
        auto b = static_cast<unsigned char>(in.front());
        in.remove_prefix(1);
        v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
        if ((b & 0x80) == 0) return true;
    }
    return false;
}

template <class T>
struct is_vector : std::false_type {};
template <class T>
struct is_vector<std::vector<T>> : std::true_type {};

template <class T>
constexpr std::size_t member_count() {
    return boost::mp11::mp_size<boost::describe::describe_members<T, boost::describe::mod_public>>::value;
}

template <class T>
void enc(std::string& out, T const& v);
template <class T>
bool dec(std::string_view& in, T& v, int depth);

template <class T>
void enc(std::string& out, T const& v) {
    if constexpr (std::is_same_v<T, std::string>) {
        put_varint(out, v.size());
        out.append(v);
    } else if constexpr (std::is_same_v<T, bool>) {
        out.push_back(v ? '\1' : '\0');
    } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
        auto const x = static_cast<std::int64_t>(v);
        put_varint(out, (static_cast<std::uint64_t>(x) << 1) ^ static_cast<std::uint64_t>(x >> 63));
    } else if constexpr (std::is_integral_v<T>) {
        put_varint(out, static_cast<std::uint64_t>(v));
    } else if constexpr (is_vector<T>::value) {
        put_varint(out, v.size());
        for (auto const& e : v) enc(out, e);
    } else {
        put_varint(out, member_count<T>());
        boost::mp11::mp_for_each<boost::describe::describe_members<T, boost::describe::mod_public>>(
            [&](auto d) { enc(out, v.*d.pointer); });
    }
}

template <class T>
bool dec(std::string_view& in, T& v, int depth) {
    if constexpr (std::is_same_v<T, std::string>) {
        std::uint64_t n = 0;
        if (!get_varint(in, n) || n > in.size()) return false;
        v.assign(in.data(), static_cast<std::size_t>(n));
        in.remove_prefix(static_cast<std::size_t>(n));
        return true;
    } else if constexpr (std::is_same_v<T, bool>) {
        if (in.empty()) return false;
        char c = in.front();
        in.remove_prefix(1);
        if (c != '\0' && c != '\1') return false;
        v = c == '\1';
        return true;
    } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
        std::uint64_t z = 0;
        if (!get_varint(in, z)) return false;
        auto const x = static_cast<std::int64_t>((z >> 1) ^ (~(z & 1) + 1));
        if (x < static_cast<std::int64_t>(std::numeric_limits<T>::min()) ||
            x > static_cast<std::int64_t>(std::numeric_limits<T>::max()))
            return false;
        v = static_cast<T>(x);
        return true;
    } else if constexpr (std::is_integral_v<T>) {
        std::uint64_t x = 0;
        if (!get_varint(in, x) || x > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) return false;
        v = static_cast<T>(x);
        return true;
    } else if constexpr (is_vector<T>::value) {
        std::uint64_t n = 0;
        if (!get_varint(in, n) || n > in.size()) return false;  // every item takes at least one byte
        v.clear();
        v.resize(static_cast<std::size_t>(n));
        for (auto& e : v)
            if (!dec(in, e, depth)) return false;
        return true;
    } else {
        if (depth > 8) return false;
        std::uint64_t n = 0;
        if (!get_varint(in, n) || n > member_count<T>()) return false;
        std::size_t i = 0;
        bool ok = true;
        boost::mp11::mp_for_each<boost::describe::describe_members<T, boost::describe::mod_public>>([&](auto d) {
            if (ok && i++ < n) ok = dec(in, v.*d.pointer, depth + 1);
        });
        return ok;
    }
}

}  // namespace codec_detail

inline constexpr char codec_version = 1;

/// Encodes a described record.
template <class T>
std::string encode(T const& v) {
    std::string out;
    out.reserve(128);
    out.push_back(codec_version);
    codec_detail::enc(out, v);
    return out;
}

/// Decodes a described record; errc::corrupted on anything malformed.
template <class T>
result<T> decode(std::string_view in) {
    if (in.empty() || in.front() != codec_version) return make_error_code(errc::corrupted);
    in.remove_prefix(1);
    T v{};
    if (!codec_detail::dec(in, v, 0) || !in.empty()) return make_error_code(errc::corrupted);
    return v;
}

}  // namespace latchkey::store
