#pragma once
// The users family's rules that do not depend on a backend: which index keys a user record holds (owning and
// pending claims, username, external id, identification ids), the query match and the orders of
// users_view::list. Every backend derives its indexes and listings from these, so they agree by construction.
#include "store/records.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace latchkey::store::rules {

inline constexpr char ascii_lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

inline std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = ascii_lower(c);
    return out;
}

/// Whether `hay` contains `needle` (already lowercased), ASCII case-insensitively. No allocation.
inline bool icontains(std::string_view hay, std::string_view needle) noexcept {
    if (needle.empty()) return true;
    if (needle.size() > hay.size()) return false;
    for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i) {
        std::size_t j = 0;
        while (j < needle.size() && ascii_lower(hay[i + j]) == needle[j]) ++j;
        if (j == needle.size()) return true;
    }
    return false;
}

template <class T>
bool contains(std::vector<T> const& v, T const& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

/// Whether a non-empty key occurs twice (empty keys are never indexed).
inline bool has_duplicates(std::vector<std::string> v) {
    std::erase(v, std::string());
    std::sort(v.begin(), v.end());
    return std::adjacent_find(v.begin(), v.end()) != v.end();
}

/// The index key of an email address / phone number: the email lowercased, the phone as stored.
inline std::string address_key(identification_record const& i) {
    return i.kind == "email_address" ? lower(i.value) : i.value;
}

/// Every index key a user holds, per index.
struct user_keys {
    std::vector<std::string> emails, phones;                  ///< owning claims (unique indexes)
    std::vector<std::string> pending_emails, pending_phones;  ///< pending claims (address keys, not unique)
    std::vector<std::string> idns;
    std::string username, external_id;  ///< empty = not indexed

    /// Every email / phone address key, owning and pending (an address may occur once per user).
    std::vector<std::string> all_emails() const {
        std::vector<std::string> v = emails;
        v.insert(v.end(), pending_emails.begin(), pending_emails.end());
        return v;
    }
    std::vector<std::string> all_phones() const {
        std::vector<std::string> v = phones;
        v.insert(v.end(), pending_phones.begin(), pending_phones.end());
        return v;
    }
};

inline user_keys keys_of(user_record const& u) {
    user_keys k;
    for (auto const& i : u.identifications) {
        bool const owns = owns_address(i);
        if (i.kind == "email_address")
            (owns ? k.emails : k.pending_emails).push_back(address_key(i));
        else if (i.kind == "phone_number")
            (owns ? k.phones : k.pending_phones).push_back(address_key(i));
        // A proven web3 wallet (issue 14) shares the unique phone index, keyed by its lowercase address: "0x..."
        // never collides with an E.164 "+...". Unproven wallet claims are not indexed.
        else if (i.kind == "web3_wallet" && owns)
            k.phones.push_back(lower(i.value));
        k.idns.push_back(i.id);
    }
    for (auto const& ea : u.external_accounts) k.idns.push_back(ea.identification_id);  // provider identities
    k.username = lower(u.username);
    k.external_id = u.external_id;
    return k;
}

/// The search (issue 23: the console's and BAPI `query` search, user_filter::search): every lowercased term a user
/// is found by a prefix of — the id, the external id, the username, each email address and its domain, each phone
/// number with and without its '+', each web3 wallet, the first and the last name and the full name (each at most
/// search_term_max bytes; terms holding a NUL are left out).
inline constexpr std::size_t search_term_max = 128;

inline std::vector<std::string> search_terms(user_record const& u) {
    std::vector<std::string> terms;
    auto add = [&](std::string_view t) {
        std::string k = lower(t.substr(0, search_term_max));
        if (k.empty() || k.find('\0') != std::string::npos) return;
        for (auto const& e : terms)
            if (e == k) return;
        terms.push_back(std::move(k));
    };
    add(u.id);
    add(u.external_id);
    add(u.username);
    for (auto const& i : u.identifications) {
        if (i.kind == "email_address") {
            add(i.value);
            if (auto at = i.value.find('@'); at != std::string::npos) add(std::string_view(i.value).substr(at + 1));
        } else if (i.kind == "phone_number") {
            add(i.value);
            if (i.value.starts_with('+')) add(std::string_view(i.value).substr(1));
        } else if (i.kind == "web3_wallet") {
            add(i.value);
        }
    }
    add(u.first_name);
    add(u.last_name);
    if (!u.first_name.empty() && !u.last_name.empty()) add(u.first_name + " " + u.last_name);
    return terms;
}

/// The index keys of a user's terms: term, NUL, user id. Within one term the keys are in id order, which is
/// creation order (Clerk's ids are time-ordered).
inline std::vector<std::string> search_keys(user_record const& u) {
    auto keys = search_terms(u);
    for (auto& k : keys) (k += '\0') += u.id;
    return keys;
}

/// The user id of a search key.
inline std::string_view search_key_user(std::string_view key) noexcept {
    auto nul = key.rfind('\0');
    return nul == std::string_view::npos ? std::string_view{} : key.substr(nul + 1);
}

/// A search as the terms are kept: lowercased and cut to search_term_max. Empty when it can match nothing that
/// way (a NUL); the caller tells an empty search (no search) from this by the input.
inline std::string search_prefix(std::string_view s) {
    std::string p = lower(s.substr(0, search_term_max));
    if (p.find('\0') != std::string::npos) p.clear();
    return p;
}

/// Whether one of u's terms starts with `prefix` (as search_prefix made it).
inline bool search_matches(user_record const& u, std::string_view prefix) {
    if (prefix.empty()) return false;
    for (auto const& t : search_terms(u))
        if (t.starts_with(prefix)) return true;
    return false;
}

/// A part of `prefix` that every matching user's stored record holds as is (ASCII case aside): all of it up to
/// its first space (only the full name is not a field of its own, and its first name comes before the space).
/// The walk of a broad search skips records without it before decoding them.
inline std::string_view search_needle(std::string_view prefix) noexcept { return prefix.substr(0, prefix.find(' ')); }

/// How many index entries a backend reads for a search before it calls the prefix broad: the index answers a
/// search with at most this many entries exactly (sorted ids, any order, exact counts); a broader one is answered
/// in creation order by walking the users newest (or oldest) first and testing each, which finds a page of
/// `wanted` (offset + limit) after about wanted * users / matches records. Balancing the two costs gives
/// sqrt(users * wanted): 4,500 entries for a page of 20 over a million users, so either way a page reads a few
/// thousand entries. Bounded below so a few dozen matches always come from the index, and above.
inline std::size_t search_budget(std::size_t users, std::size_t wanted) noexcept {
    auto const x = static_cast<double>(users) * static_cast<double>(std::max<std::size_t>(wanted, 1));
    auto b = static_cast<std::size_t>(std::sqrt(x));
    return std::clamp<std::size_t>(b, 32, 200'000);
}

enum class order_field {
    created_at,
    updated_at,
    last_sign_in_at,
    last_active_at,
    email_address,
    phone_number,
    username,
    first_name,
    last_name
};

struct user_order {
    order_field field = order_field::created_at;
    bool desc = true;
};

inline user_order parse_order(std::string_view s) {
    static constexpr std::pair<std::string_view, order_field> fields[] = {
        {"created_at", order_field::created_at},
        {"updated_at", order_field::updated_at},
        {"last_sign_in_at", order_field::last_sign_in_at},
        {"last_active_at", order_field::last_active_at},
        {"email_address", order_field::email_address},
        {"phone_number", order_field::phone_number},
        {"username", order_field::username},
        {"first_name", order_field::first_name},
        {"last_name", order_field::last_name}};
    bool desc = true;
    if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
        desc = s.front() == '-';
        s.remove_prefix(1);
    }
    for (auto const& [name, field] : fields)
        if (name == s) return {field, desc};
    return {};  // unknown: -created_at (the server validates order_by)
}

inline bool matches_query(user_record const& u, std::string_view q) noexcept {
    if (q.empty()) return true;
    if (icontains(u.id, q) || icontains(u.username, q) || icontains(u.first_name, q) || icontains(u.last_name, q) ||
        icontains(u.external_id, q))
        return true;
    for (auto const& i : u.identifications)
        if ((i.kind == "email_address" || i.kind == "phone_number") && icontains(i.value, q)) return true;
    return false;
}

inline std::string_view primary_value(user_record const& u, std::string const& primary_id) {
    for (auto const& i : u.identifications)
        if (i.id == primary_id) return i.value;
    return {};
}

/// One user's sort key for non-creation orders.
struct sort_entry {
    std::int64_t num = 0;
    std::string str;
    std::string id;
};

inline sort_entry sort_key(user_record const& u, order_field f) {
    sort_entry e;
    e.id = u.id;
    switch (f) {
        case order_field::created_at:
            e.num = u.created_at;
            break;
        case order_field::updated_at:
            e.num = u.updated_at;
            break;
        case order_field::last_sign_in_at:
            e.num = u.last_sign_in_at;
            break;
        case order_field::last_active_at:
            e.num = u.last_active_at;
            break;
        case order_field::email_address:
            e.str = lower(primary_value(u, u.primary_email_address_id));
            break;
        case order_field::phone_number:
            e.str = lower(primary_value(u, u.primary_phone_number_id));
            break;
        case order_field::username:
            e.str = lower(u.username);
            break;
        case order_field::first_name:
            e.str = lower(u.first_name);
            break;
        case order_field::last_name:
            e.str = lower(u.last_name);
            break;
    }
    return e;
}

/// [begin, end) of the page `offset`/`limit` within `n` items.
inline std::pair<std::size_t, std::size_t> page_of(std::size_t n, std::size_t offset, std::size_t limit) noexcept {
    if (offset >= n) return {n, n};
    return {offset, offset + std::min(limit, n - offset)};
}

/// Whether the order compares numbers (else lowercased strings; created_at is id order and never sorted).
inline bool numeric(order_field f) noexcept {
    return f == order_field::updated_at || f == order_field::last_sign_in_at || f == order_field::last_active_at;
}

/// The sort of a non-creation order: by the key in the requested direction, ties in creation (id) order in the
/// requested direction too.
inline bool sorts_before(sort_entry const& a, sort_entry const& b, user_order const& order) {
    sort_entry const& x = order.desc ? b : a;
    sort_entry const& y = order.desc ? a : b;
    bool const num = numeric(order.field);
    if (num ? x.num != y.num : x.str != y.str) return num ? x.num < y.num : x.str < y.str;
    return x.id < y.id;
}

/// Narrows `ids` (sorted, unique; an empty optional until the first list) to those also in `v`: how a filter's
/// lists AND together.
inline void intersect_ids(std::optional<std::vector<std::string>>& ids, std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    if (!ids) {
        ids = std::move(v);
        return;
    }
    std::vector<std::string> both;
    std::set_intersection(ids->begin(), ids->end(), v.begin(), v.end(), std::back_inserter(both));
    ids = std::move(both);
}

/// Removes `other`'s pending claims of `kind` on `address` (as address_key gives it), which another user now owns
/// (users_repo::put): a primary that pointed at one moves to another owning claim of the kind or is cleared, and
/// other.updated_at becomes at least `at`. Whether any claim was removed (else `other` is unchanged).
inline bool drop_pending_claims(user_record& other, std::string_view kind, std::string_view address, std::int64_t at) {
    std::vector<std::string> dropped;
    std::erase_if(other.identifications, [&](identification_record const& i) {
        bool const stale = i.kind == kind && !owns_address(i) && address_key(i) == address;
        if (stale) dropped.push_back(i.id);
        return stale;
    });
    if (dropped.empty()) return false;
    std::string& primary = kind == "email_address" ? other.primary_email_address_id : other.primary_phone_number_id;
    if (contains(dropped, primary)) {
        primary.clear();
        for (auto const& i : other.identifications)
            if (i.kind == kind && owns_address(i)) {
                primary = i.id;
                break;
            }
    }
    other.updated_at = std::max(other.updated_at, at);
    return true;
}

}  // namespace latchkey::store::rules
