#pragma once
// What every store family written over an ordered key-value table (org_kv: organizations, tickets, oauth,
// console) needs: keys of a one-letter tag and NUL-separated parts, the key rules, and reading records and index
// tails. Included only by those families' .cpp files; backends and the server never see it.
#include "store/codec.hpp"
#include "store/error.hpp"
#include "store/organizations.hpp"
#include "store/store.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::store::kv_family {

/// <tag>\0<a>
inline std::string key(char tag, std::string_view a) {
    std::string k;
    k.reserve(a.size() + 2);
    k.push_back(tag);
    k.push_back('\0');
    k.append(a);
    return k;
}
/// <tag>\0<a>\0<b>
inline std::string key2(char tag, std::string_view a, std::string_view b) {
    std::string k = key(tag, a);
    k.push_back('\0');
    k.append(b);
    return k;
}
/// <tag>\0<a>\0: the prefix of every key2(tag, a, ...)
inline std::string prefix2(char tag, std::string_view a) { return key2(tag, a, {}); }

inline bool storable(std::string_view k) noexcept { return k.size() > 2 && k.size() <= max_key_size; }
inline bool part_ok(std::string_view p) noexcept { return !p.empty() && p.find('\0') == std::string_view::npos; }
inline boost::system::error_code invalid() noexcept { return make_error_code(errc::invalid_key); }

/// The record stored at `k`; none when absent or when `k` cannot be a key.
template <class T>
result<std::optional<T>> get_rec(org_kv const& kv, std::string const& k) {
    if (!storable(k)) return std::optional<T>{};
    auto v = kv.get(k);
    if (!v) return v.error();
    if (!*v) return std::optional<T>{};
    auto r = decode<T>(**v);
    if (!r) return r.error();
    return std::optional<T>{std::move(*r)};
}

/// The record stored at key(tag, id), `id` being what the index entry `index_key` holds; none when either is
/// absent or `index_key` cannot be a key.
template <class T>
result<std::optional<T>> get_via(org_kv const& kv, std::string const& index_key, char tag) {
    if (!storable(index_key)) return std::optional<T>{};
    auto id = kv.get(index_key);
    if (!id) return id.error();
    if (!*id) return std::optional<T>{};
    return get_rec<T>(kv, key(tag, **id));
}

/// The last part of each index key under `prefix`.
inline result<std::vector<std::string>> tails(org_kv const& kv, std::string const& prefix) {
    std::vector<std::string> out;
    auto r = kv.scan(prefix, [&](std::string_view k, std::string_view) {
        out.emplace_back(k.substr(prefix.size()));
        return true;
    });
    if (!r) return r.error();
    return out;
}

/// Every record stored under `prefix`, in key order; the first that does not decode fails the read.
template <class T>
result<std::vector<T>> records_under(org_kv const& kv, std::string const& prefix) {
    std::vector<T> out;
    boost::system::error_code bad;
    auto r = kv.scan(prefix, [&](std::string_view, std::string_view v) {
        auto d = decode<T>(v);
        if (!d) {
            bad = d.error();
            return false;
        }
        out.push_back(std::move(*d));
        return true;
    });
    if (!r) return r.error();
    if (bad) return bad;
    return out;
}

}  // namespace latchkey::store::kv_family
