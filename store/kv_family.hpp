#pragma once
// What every store family written over an ordered key-value table (org_kv: organizations, tickets, oauth,
// console) needs: keys of a one-letter tag and NUL-separated parts, the key rules, and reading records and index
// tails. Included only by those families' .cpp files; backends and the server never see it.
#include "store/codec.hpp"
#include "store/error.hpp"
#include "store/kv_table.hpp"
#include "store/store.hpp"

#include <array>
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

/// Calls f(record) for each record stored under `prefix`, in key order, while f returns true; the first record
/// that does not decode fails the read.
template <class T, class F>
result<void> each_record(org_kv const& kv, std::string const& prefix, F&& f) {
    boost::system::error_code bad;
    auto r = kv.scan(prefix, [&](std::string_view, std::string_view v) {
        auto d = decode<T>(v);
        if (!d) {
            bad = d.error();
            return false;
        }
        return f(std::move(*d));
    });
    if (!r) return r;
    if (bad) return bad;
    return {};
}

/// Every record stored under `prefix`, in key order; the first that does not decode fails the read.
template <class T>
result<std::vector<T>> records_under(org_kv const& kv, std::string const& prefix) {
    std::vector<T> out;
    auto r = each_record<T>(kv, prefix, [&](T&& rec) {
        out.push_back(std::move(rec));
        return true;
    });
    if (!r) return r.error();
    return out;
}

/// Writes `rec` at `k` = key(tag, part), replacing what is there: errc::invalid_key when `part` cannot be a key part.
template <class T>
result<void> put_at(org_kv& w, char tag, std::string_view part, T const& rec) {
    auto const k = key(tag, part);
    if (!part_ok(part) || !storable(k)) return invalid();
    return w.put(k, encode(rec), false);
}

/// Writes `rec` at key(tag, id) with its unique index entry key(index_tag, name) -> id. An insert claims both
/// (errc::key_exists when either is taken); an update needs the index entry to name `id` already (the indexed
/// name never changes: errc::invalid_key).
template <class T>
result<void> put_uniquely_named(org_kv& w, char tag, std::string_view id, char index_tag, std::string_view name,
                                T const& rec, bool insert) {
    if (!part_ok(id) || !part_ok(name)) return invalid();
    auto const rk = key(tag, id), nk = key(index_tag, name);
    if (!storable(rk) || !storable(nk)) return invalid();
    if (insert) {
        if (auto r = w.put(nk, id, true); !r) return r;
    } else {
        auto held = w.get(nk);
        if (!held) return held.error();
        if (!*held || **held != id) return invalid();
    }
    return w.put(rk, encode(rec), insert);
}

/// The index entries of a record: (index tag, part) for each `<index tag>\0<part>\0<record id>` -> "".
template <std::size_t N>
using index_parts = std::array<std::pair<char, std::string_view>, N>;

/// Writes `rec` at key(tag, rec.id) with its index entries `indexes(rec)` (an index_parts). The parts never change
/// for a record: an update that would move one is errc::invalid_key, as is a part or key that cannot be stored.
template <class T, class Indexes>
result<void> put_indexed(org_kv& w, char tag, T const& rec, Indexes indexes) {
    auto const rk = key(tag, rec.id);
    auto const parts = indexes(rec);
    if (!part_ok(rec.id) || !storable(rk)) return invalid();
    for (auto const& [t, part] : parts)
        if (!part_ok(part) || !storable(key2(t, part, rec.id))) return invalid();
    auto old = get_rec<T>(w, rk);
    if (!old) return old.error();
    if (*old && indexes(**old) != parts) return invalid();
    for (auto const& [t, part] : parts)
        if (auto r = w.put(key2(t, part, rec.id), {}, false); !r) return r;
    return w.put(rk, encode(rec), false);
}

/// Calls f(record) with the record stored at `k` when there is one (a missing record is not an error): how a
/// removal reads what it removes.
template <class T, class F>
result<void> if_stored(org_kv const& kv, std::string const& k, F&& f) {
    auto stored = get_rec<T>(kv, k);
    if (!stored) return stored.error();
    if (!*stored) return {};
    return f(**stored);
}

/// Calls f(item) for each item a lookup returned, stopping at the first failure (the lookup's own included).
template <class T, class F>
result<void> for_each_of(result<std::vector<T>> const& items, F&& f) {
    if (!items) return items.error();
    for (auto const& item : *items)
        if (auto r = f(item); !r) return r;
    return {};
}

/// Removes the record at key(tag, id) and the index entries `indexes(record)`; a missing record is not an error.
template <class T, class Indexes>
result<void> remove_indexed(org_kv& w, char tag, std::string_view id, Indexes indexes) {
    return if_stored<T>(w, key(tag, id), [&](T const& old) -> result<void> {
        for (auto const& [t, part] : indexes(old))
            if (auto r = w.del(key2(t, part, old.id)); !r) return r;
        return w.del(key(tag, id));
    });
}

}  // namespace latchkey::store::kv_family
