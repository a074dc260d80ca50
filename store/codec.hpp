#pragma once
// The private, versioned record codec: one format for every described record (store/records.hpp).
//
// Layout: a version byte (codec_version), then the record as a struct:
//   struct   <member count varint><members in declaration order...>
//   string   <byte length varint><bytes>
//   bool     one byte, 0 or 1
//   integer  signed: zigzag varint; unsigned: varint (LEB128, at most 10 bytes)
//   vector   <item count varint><items...>
// A reader that knows more members than were written leaves the missing trailing ones at their defaults, so
// records may grow by APPENDING members (never reorder or remove). A struct with more members than the reader
// knows (written by a newer version) is refused as corrupted rather than misread.
//
// Every read is bounds-checked: truncated or garbage input decodes to errc::corrupted, never to undefined
// behaviour, and allocations stay proportional to the input size (every item needs at least one input byte).
#include "store/error.hpp"

#include <boost/describe/members.hpp>
#include <boost/describe/modifiers.hpp>
#include <boost/mp11/algorithm.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace latchkey::store {

/// The version byte in front of every encoded record.
inline constexpr char codec_version = 1;

namespace codec_detail {

template <class T>
using members = boost::describe::describe_members<T, boost::describe::mod_public>;

template <class T>
inline constexpr std::size_t member_count = boost::mp11::mp_size<members<T>>::value;

template <class T>
struct is_vector : std::false_type {};
template <class T, class A>
struct is_vector<std::vector<T, A>> : std::true_type {};

template <class T>
inline constexpr bool is_record = boost::describe::has_describe_members<T>::value;

template <class T>
inline constexpr bool is_integer = std::is_integral_v<T> && !std::is_same_v<T, bool>;

constexpr std::size_t varint_size(std::uint64_t v) noexcept {
    std::size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        ++n;
    }
    return n;
}

inline void put_varint(std::string& out, std::uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<char>((v & 0x7f) | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<char>(v));
}

/// Reads a LEB128 varint of at most 10 bytes whose value fits 64 bits.
inline bool get_varint(std::string_view& in, std::uint64_t& v) noexcept {
    v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (in.empty()) return false;
        auto const b = static_cast<unsigned char>(in.front());
        in.remove_prefix(1);
        if (shift == 63 && b > 1) return false;  // the 10th byte carries only bit 63
        v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
        if ((b & 0x80) == 0) return true;
    }
    return false;
}

template <class T>
constexpr std::uint64_t zigzag(T v) noexcept {
    auto const x = static_cast<std::int64_t>(v);
    return (static_cast<std::uint64_t>(x) << 1) ^ static_cast<std::uint64_t>(x >> 63);
}

constexpr std::int64_t unzigzag(std::uint64_t z) noexcept {
    return static_cast<std::int64_t>((z >> 1) ^ (~(z & 1) + 1));
}

template <class T>
std::size_t encoded_size(T const& v) noexcept {
    if constexpr (std::is_same_v<T, std::string>) {
        return varint_size(v.size()) + v.size();
    } else if constexpr (std::is_same_v<T, bool>) {
        return 1;
    } else if constexpr (is_integer<T> && std::is_signed_v<T>) {
        return varint_size(zigzag(v));
    } else if constexpr (is_integer<T>) {
        return varint_size(static_cast<std::uint64_t>(v));
    } else if constexpr (is_vector<T>::value) {
        std::size_t n = varint_size(v.size());
        for (auto const& e : v) n += encoded_size(e);
        return n;
    } else {
        static_assert(is_record<T>, "codec: members must be string, bool, integer, vector or described struct");
        std::size_t n = varint_size(member_count<T>);
        boost::mp11::mp_for_each<members<T>>([&](auto d) { n += encoded_size(v.*d.pointer); });
        return n;
    }
}

template <class T>
void enc(std::string& out, T const& v) {
    if constexpr (std::is_same_v<T, std::string>) {
        put_varint(out, v.size());
        out.append(v);
    } else if constexpr (std::is_same_v<T, bool>) {
        out.push_back(v ? '\1' : '\0');
    } else if constexpr (is_integer<T> && std::is_signed_v<T>) {
        put_varint(out, zigzag(v));
    } else if constexpr (is_integer<T>) {
        put_varint(out, static_cast<std::uint64_t>(v));
    } else if constexpr (is_vector<T>::value) {
        put_varint(out, v.size());
        for (auto const& e : v) enc(out, e);
    } else {
        static_assert(is_record<T>, "codec: members must be string, bool, integer, vector or described struct");
        put_varint(out, member_count<T>);
        boost::mp11::mp_for_each<members<T>>([&](auto d) { enc(out, v.*d.pointer); });
    }
}

/// Decodes into `v` (default-initialised by the caller), consuming from `in`. False on malformed input.
template <class T>
bool dec(std::string_view& in, T& v) {
    if constexpr (std::is_same_v<T, std::string>) {
        std::uint64_t n = 0;
        if (!get_varint(in, n) || n > in.size()) return false;
        v.assign(in.data(), static_cast<std::size_t>(n));
        in.remove_prefix(static_cast<std::size_t>(n));
        return true;
    } else if constexpr (std::is_same_v<T, bool>) {
        if (in.empty()) return false;
        char const c = in.front();
        in.remove_prefix(1);
        if (c != '\0' && c != '\1') return false;
        v = c == '\1';
        return true;
    } else if constexpr (is_integer<T> && std::is_signed_v<T>) {
        std::uint64_t z = 0;
        if (!get_varint(in, z)) return false;
        std::int64_t const x = unzigzag(z);
        if (x < static_cast<std::int64_t>(std::numeric_limits<T>::min()) ||
            x > static_cast<std::int64_t>(std::numeric_limits<T>::max()))
            return false;
        v = static_cast<T>(x);
        return true;
    } else if constexpr (is_integer<T>) {
        std::uint64_t x = 0;
        if (!get_varint(in, x) || x > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) return false;
        v = static_cast<T>(x);
        return true;
    } else if constexpr (is_vector<T>::value) {
        std::uint64_t n = 0;
        if (!get_varint(in, n) || n > in.size()) return false;  // every item takes at least one byte
        v.clear();
        v.reserve(static_cast<std::size_t>(n));
        for (std::uint64_t i = 0; i < n; ++i)
            if (!dec(in, v.emplace_back())) return false;
        return true;
    } else {
        static_assert(is_record<T>, "codec: members must be string, bool, integer, vector or described struct");
        std::uint64_t n = 0;
        if (!get_varint(in, n) || n > member_count<T>) return false;
        std::size_t i = 0;
        bool ok = true;
        boost::mp11::mp_for_each<members<T>>([&](auto d) {
            if (ok && i++ < n) ok = dec(in, v.*d.pointer);
        });
        return ok;
    }
}

}  // namespace codec_detail

/// Encodes a described record: the version byte, then the record. The result is sized exactly (one allocation).
template <class T>
std::string encode(T const& v) {
    static_assert(codec_detail::is_record<T>, "encode: T must be a described record");
    std::string out;
    out.reserve(1 + codec_detail::encoded_size(v));
    out.push_back(codec_version);
    codec_detail::enc(out, v);
    return out;
}

/// Decodes a described record; errc::corrupted on a wrong version byte, truncation, trailing bytes, out-of-range
/// values or more members than T has. Members absent from an older encoding keep T's defaults.
/// @throws std::bad_alloc only.
template <class T>
result<T> decode(std::string_view in) {
    static_assert(codec_detail::is_record<T>, "decode: T must be a described record");
    if (in.empty() || in.front() != codec_version) return make_error_code(errc::corrupted);
    in.remove_prefix(1);
    result<T> r{boost::system::in_place_value};
    if (!codec_detail::dec(in, *r) || !in.empty()) return make_error_code(errc::corrupted);
    return r;
}

}  // namespace latchkey::store
