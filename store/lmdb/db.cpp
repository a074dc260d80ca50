#include "store/lmdb/db.hpp"
#include "store/waitlist.hpp"

#include "store/codec.hpp"
#include "store/repositories.hpp"
#include "store/rules.hpp"

#include <algorithm>
#include <iterator>
#include <new>
#include <type_traits>
#include <unordered_set>
#include <utility>

namespace latchkey::store::lmdb {

namespace {

using namespace store::rules;  // NOLINT(google-build-using-namespace): the backend-neutral index rules

template <class T>
result<std::optional<T>> get_record(txn const& t, MDB_dbi dbi, std::string_view key) {
    auto v = t.get(dbi, key);
    if (!v) return v.error();
    if (!*v) return std::optional<T>{};
    auto r = decode<T>(**v);
    if (!r) return r.error();
    return std::optional<T>{std::move(*r)};
}

result<std::optional<std::string>> get_string(txn const& t, MDB_dbi dbi, std::string_view key) {
    auto v = t.get(dbi, key);
    if (!v) return v.error();
    if (!*v) return std::optional<std::string>{};
    return std::optional<std::string>{std::string(**v)};
}

/// The smallest key greater than every key starting with `prefix`; empty when there is none.
std::string prefix_end(std::string_view prefix) {
    std::string s(prefix);
    while (!s.empty() && s.back() == '\xff') s.pop_back();
    if (!s.empty()) s.back() = static_cast<char>(static_cast<unsigned char>(s.back()) + 1);
    return s;
}

/// What a visitor wants after an item.
enum class step { next, stop };

constexpr step more_if(bool go) noexcept { return go ? step::next : step::stop; }

/// Visits the entries of `dbi` whose keys start with `prefix` (all entries for ""), in key order or reversed.
/// f: (cursor::entry const&) -> result<step>. The entry's views die with the step.
template <class F>
result<void> scan(txn const& t, MDB_dbi dbi, std::string_view prefix, bool reverse, F&& f) {
    auto c = cursor::open(t, dbi);
    if (!c) return c.error();
    result<std::optional<cursor::entry>> e = std::optional<cursor::entry>{};
    if (!reverse) {
        e = c->seek(prefix);
    } else {
        std::string const end = prefix_end(prefix);
        e = end.empty() ? c->last() : c->seek_before(end);
    }
    for (;;) {
        if (!e) return e.error();
        if (!*e || !(*e)->first.starts_with(prefix)) return {};
        auto go = f(**e);
        if (!go) return go.error();
        if (*go == step::stop) return {};
        e = reverse ? c->prev() : c->next();
    }
}

/// Deletes `key` from a unique index only if it still points at `owner` (never another record's entry).
result<void> del_if_owned(write_txn& w, MDB_dbi dbi, std::string_view key, std::string_view owner) {
    auto v = w.get(dbi, key);
    if (!v) return v.error();
    if (!*v || **v != owner) return {};
    return w.del(dbi, key);
}

// users_by_pending_claim keys: "<tag>\0<address key>\0<user id>", tag 'e' (email) or 'p' (phone); empty values.
constexpr char email_tag = 'e';
constexpr char phone_tag = 'p';

std::string claim_prefix(char tag, std::string_view address) {
    std::string k;
    k.reserve(address.size() + 3);
    k.push_back(tag);
    k.push_back('\0');
    k.append(address);
    k.push_back('\0');
    return k;
}

std::string claim_key(char tag, std::string_view address, std::string_view user_id) {
    std::string k = claim_prefix(tag, address);
    k.append(user_id);
    return k;
}

/// users_by_pending_claim keys of `user_id`.
std::vector<std::string> claim_keys(user_keys const& k, std::string_view user_id) {
    std::vector<std::string> v;
    for (auto const& e : k.pending_emails) v.push_back(claim_key(email_tag, e, user_id));
    for (auto const& p : k.pending_phones) v.push_back(claim_key(phone_tag, p, user_id));
    return v;
}

/// Version of the claim rules the email/phone indexes follow (db.hpp, "Claims"), in meta "identifier_claims".
constexpr std::string_view claims_meta_key = "identifier_claims";
constexpr std::string_view claims_version = "2";
constexpr std::string_view search_meta_key = "users_search_index";
constexpr std::string_view search_index_version = "1";

std::string user_session_prefix(std::string_view user_id) {
    std::string k(user_id);
    k.push_back('\0');
    return k;
}

std::string user_session_key(std::string_view user_id, std::string_view session_id) {
    std::string k = user_session_prefix(user_id);
    k.append(session_id);
    return k;
}

// ---- user listing ----

/// Decodes an encoded user; an empty optional when it does not match the (lowercased) query or, when `search` is
/// not empty, has no term starting with it.
result<std::optional<user_record>> decode_if_matches(std::string_view raw, std::string_view q,
                                                     std::string_view search) {
    auto u = decode<user_record>(raw);
    if (!u) return u.error();
    if (!matches_query(*u, q) || (!search.empty() && !search_matches(*u, search))) return std::optional<user_record>{};
    return std::optional<user_record>{std::move(*u)};
}

/// The ids the filter's lists resolve to (sorted, unique), or an empty optional when it has no id filter.
result<std::optional<std::vector<std::string>>> resolve_ids(txn const& t, user_filter const& f, MDB_dbi by_email,
                                                            MDB_dbi by_phone, MDB_dbi by_username,
                                                            MDB_dbi by_external_id, MDB_dbi by_pending_claim) {
    std::optional<std::vector<std::string>> ids;
    auto intersect = [&](std::vector<std::string> s) { intersect_ids(ids, std::move(s)); };
    // tag: also the pending claims on the address ('\0' = a plain unique index).
    auto resolve = [&](std::vector<std::string> const& values, MDB_dbi dbi, bool lowercase, char tag) -> result<void> {
        if (values.empty()) return {};
        std::vector<std::string> s;
        for (auto const& v : values) {
            std::string const key = lowercase ? lower(v) : v;
            auto id = get_string(t, dbi, key);
            if (!id) return id.error();
            if (*id) s.push_back(std::move(**id));
            if (tag == '\0') continue;
            auto const prefix = claim_prefix(tag, key);
            auto r = scan(t, by_pending_claim, prefix, false, [&](cursor::entry const& e) -> result<step> {
                s.emplace_back(e.first.substr(prefix.size()));
                return step::next;
            });
            if (!r) return r;
        }
        intersect(std::move(s));
        return {};
    };
    if (auto r = resolve(f.email_addresses, by_email, true, email_tag); !r) return r.error();
    if (auto r = resolve(f.phone_numbers, by_phone, false, phone_tag); !r) return r.error();
    if (auto r = resolve(f.usernames, by_username, true, '\0'); !r) return r.error();
    if (auto r = resolve(f.external_ids, by_external_id, false, '\0'); !r) return r.error();
    if (!f.user_ids.empty()) intersect(f.user_ids);
    return ids;
}

/// Visits, in creation order (reversed when `desc`), the encoded users that may match: those the id filters
/// resolved to (or every user), skipping those whose bytes cannot contain the query. Every string the query
/// searches is stored verbatim in the encoding, so the byte check never drops a match; callers still decode and
/// check. f: (std::string_view encoded) -> result<step>.
template <class F>
result<void> visit_users(txn const& t, MDB_dbi users, std::optional<std::vector<std::string>> const& ids,
                         std::string_view q, std::string_view needle, bool desc, F&& f) {
    auto may_match = [&](std::string_view raw) { return icontains(raw, q) && icontains(raw, needle); };
    if (!ids) {
        return scan(t, users, {}, desc, [&](cursor::entry const& e) -> result<step> {
            if (!may_match(e.second)) return step::next;
            return f(e.second);
        });
    }
    auto visit = [&](std::string const& id) -> result<step> {
        auto raw = t.get(users, id);
        if (!raw) return raw.error();
        if (!*raw || !may_match(**raw)) return step::next;
        return f(**raw);
    };
    auto each = [&](auto first, auto last) -> result<void> {
        for (; first != last; ++first) {
            auto go = visit(*first);
            if (!go) return go.error();
            if (*go == step::stop) break;
        }
        return {};
    };
    return desc ? each(ids->rbegin(), ids->rend()) : each(ids->begin(), ids->end());
}

/// Collects one page of a stream while counting everything offered.
template <class T>
struct pager {
    pager(std::size_t off, std::size_t lim) noexcept : offset(off), limit(lim) {}
    std::size_t offset, limit;
    std::size_t seen = 0;  ///< items offered so far (all of them count towards a total)
    std::vector<T> out;
    /// Whether the next item falls on the page (call before decoding it).
    bool wants() const noexcept { return seen >= offset && out.size() < limit; }
    bool full() const noexcept { return out.size() >= limit; }
};

/// The users a filter leaves to visit: `ids` as resolve_ids (plus the search, see below), `q` the lowercased
/// query, `search` the prefix each visited user must still be tested against (empty: none), `needle` the part of
/// it a matching record holds verbatim (visit_users' byte check). `none` when nothing can match.
struct candidates {
    std::optional<std::vector<std::string>> ids;
    std::string q, search;
    std::string_view needle() const noexcept { return search_needle(search); }
    bool none = false;
};

/// A search (user_filter::search) is answered from users_by_term: a range of "<term>\0<user id>" keys. With other
/// id filters their ids are tested one by one. Otherwise when the range holds at most `budget` keys its users
/// become the id filter (exact); a broader one is left to the walk (every user in order, tested).
result<candidates> resolve_candidates(txn const& t, user_filter const& f, MDB_dbi by_term, std::size_t budget,
                                      std::optional<std::vector<std::string>> ids) {
    candidates c{std::move(ids), lower(f.query), {}};
    if (f.search.empty()) return c;
    auto const prefix = search_prefix(f.search);
    if (prefix.empty()) {
        c.none = true;
        return c;
    }
    if (c.ids) {
        c.search = prefix;
        return c;
    }
    std::vector<std::string_view> found;  // views into the txn's pages: copied only when the index answers
    std::size_t keys = 0;
    auto r = scan(t, by_term, prefix, false, [&](cursor::entry const& e) -> result<step> {
        if (++keys > budget) return step::stop;
        found.push_back(search_key_user(e.first));
        return step::next;
    });
    if (!r) return r.error();
    if (keys > budget) {
        c.search = prefix;
        return c;
    }
    std::sort(found.begin(), found.end());
    found.erase(std::unique(found.begin(), found.end()), found.end());
    c.ids.emplace(found.begin(), found.end());
    return c;
}

}  // namespace

result<std::unique_ptr<db>> db::open(options const& o) noexcept {
    return guarded([&]() -> result<std::unique_ptr<db>> {
        auto d = std::make_unique<db>();
        if (auto r = d->env_.open(o.dir, o.map_size, 32, o.durable, o.max_readers); !r) return r.error();
        auto w = write_txn::begin(d->env_);
        if (!w) return w.error();
        struct named {
            MDB_dbi* dbi;
            char const* name;
        };
        auto& t = d->t_;
        named const all[] = {{&t.users, "users"},
                             {&t.sessions, "sessions"},
                             {&t.clients, "clients"},
                             {&t.sign_ins, "sign_ins"},
                             {&t.sign_ups, "sign_ups"},
                             {&t.dev_browsers, "dev_browsers"},
                             {&t.jwt_templates, "jwt_templates"},
                             {&t.meta, "meta"},
                             {&t.users_by_email, "users_by_email"},
                             {&t.users_by_phone, "users_by_phone"},
                             {&t.users_by_username, "users_by_username"},
                             {&t.users_by_external_id, "users_by_external_id"},
                             {&t.users_by_identification, "users_by_identification"},
                             {&t.sessions_by_user, "sessions_by_user"},
                             {&t.jwt_templates_by_name, "jwt_templates_by_name"},
                             {&t.users_by_pending_claim, "users_by_pending_claim"},
                             {&t.jobs, "jobs"},
                             {&t.jobs_due, "jobs_due"},
                             {&t.waitlist_entries, "waitlist_entries"},
                             {&t.waitlist_by_email, "waitlist_by_email"},
                             {&t.organizations, "organizations"},
                             {&t.images, "images"},
                             {&t.tickets, "tickets"},
                             {&t.oauth, "oauth"},
                             {&t.console, "console"},
                             {&t.users_by_term, "users_by_term"}};
        for (auto const& n : all) {
            auto r = w->open_dbi(n.name);
            if (!r) return r.error();
            *n.dbi = *r;
            d->names_.emplace_back(n.name, *r);
        }
        // A store from before the claim rules indexed pending claims as unique: move them to their own index
        // (each address had one holder then, so nothing conflicts and nothing is lost).
        auto version = get_string(*w, t.meta, claims_meta_key);
        if (!version) return version.error();
        if (!*version || **version != claims_version) {
            std::vector<user_record> pending;
            auto r = scan(*w, t.users, {}, false, [&](cursor::entry const& e) -> result<step> {
                auto u = decode<user_record>(e.second);
                if (!u) return u.error();
                auto const k = keys_of(*u);
                if (!k.pending_emails.empty() || !k.pending_phones.empty()) pending.push_back(std::move(*u));
                return step::next;
            });
            if (!r) return r.error();
            for (auto const& u : pending) {
                auto const k = keys_of(u);
                for (auto const& e : k.pending_emails)
                    if (auto x = del_if_owned(*w, t.users_by_email, e, u.id); !x) return x.error();
                for (auto const& p : k.pending_phones)
                    if (auto x = del_if_owned(*w, t.users_by_phone, p, u.id); !x) return x.error();
                for (auto const& c : claim_keys(k, u.id))
                    if (auto x = w->put(t.users_by_pending_claim, c, {}); !x) return x.error();
            }
            if (auto x = w->put(t.meta, claims_meta_key, claims_version); !x) return x.error();
        }
        // A store from before the search index (issue 23): index every user once.
        auto search_version = get_string(*w, t.meta, search_meta_key);
        if (!search_version) return search_version.error();
        if (!*search_version || **search_version != search_index_version) {
            std::vector<std::string> keys;
            auto r = scan(*w, t.users, {}, false, [&](cursor::entry const& e) -> result<step> {
                auto u = decode<user_record>(e.second);
                if (!u) return u.error();
                for (auto& k : search_keys(*u)) keys.push_back(std::move(k));
                return step::next;
            });
            if (!r) return r.error();
            for (auto const& k : keys)
                if (auto x = w->put(t.users_by_term, k, {}); !x) return x.error();
            if (auto x = w->put(t.meta, search_meta_key, search_index_version); !x) return x.error();
        }
        if (auto c = std::move(*w).commit(); !c) return c.error();
        return d;
    });
}

result<void> db::sync() noexcept { return env_.sync(); }

result<storage_usage> db::usage() const noexcept {
    MDB_envinfo info{};
    if (int rc = ::mdb_env_info(env_.get(), &info); rc != 0) return lmdb_error(rc, "mdb_env_info");
    MDB_stat st{};
    if (int rc = ::mdb_env_stat(env_.get(), &st); rc != 0) return lmdb_error(rc, "mdb_env_stat");
    storage_usage u;
    u.map_size = info.me_mapsize;
    u.used_bytes = (static_cast<std::uint64_t>(info.me_last_pgno) + 1) * st.ms_psize;
    u.readers = info.me_numreaders;
    return u;
}

// ---- users ----

result<void> db::put_user(write_txn& w, user_record const& u, user_record const* previous,
                          unique_field* conflict) const noexcept {
    return guarded([&]() -> result<void> {
        auto taken = [&](unique_field f) -> result<void> {
            if (conflict != nullptr) *conflict = f;
            return make_error_code(errc::key_exists);
        };
        if (u.id.empty() || u.id.size() > max_key_size) return make_error_code(errc::invalid_key);
        auto stored = get_user(w, u.id);
        if (!stored) return stored.error();
        if (previous == nullptr && *stored) return taken(unique_field::none);  // an insert never overwrites
        auto const now = keys_of(u);
        auto const before = *stored ? keys_of(**stored) : user_keys{};

        // Check everything before writing anything: duplicates inside the record, then keys held by others.
        if (has_duplicates(now.all_emails())) return taken(unique_field::email_address);
        if (has_duplicates(now.all_phones())) return taken(unique_field::phone_number);
        if (has_duplicates(now.idns)) return taken(unique_field::none);
        auto const claims_now = claim_keys(now, u.id);
        for (auto const& c : claims_now)
            if (c.size() > max_key_size) return make_error_code(errc::invalid_key);
        auto held_by_other = [&](MDB_dbi dbi, std::string const& key) -> result<bool> {
            auto v = w.get(dbi, key);
            if (!v) return result<bool>(boost::system::in_place_error, v.error());
            return *v && **v != u.id;
        };
        auto check = [&](MDB_dbi dbi, std::vector<std::string> const& keys, unique_field f) -> result<void> {
            for (auto const& k : keys) {
                if (k.empty()) continue;
                if (k.size() > max_key_size) return make_error_code(errc::invalid_key);
                auto other = held_by_other(dbi, k);
                if (!other) return other.error();
                if (*other) return taken(f);
            }
            return {};
        };
        // An owned address refuses every other claim on it, owning or pending.
        if (auto r = check(t_.users_by_email, now.all_emails(), unique_field::email_address); !r) return r;
        if (auto r = check(t_.users_by_phone, now.all_phones(), unique_field::phone_number); !r) return r;
        if (auto r = check(t_.users_by_username, {now.username}, unique_field::username); !r) return r;
        if (auto r = check(t_.users_by_external_id, {now.external_id}, unique_field::external_id); !r) return r;
        if (auto r = check(t_.users_by_identification, now.idns, unique_field::none); !r) return r;

        // The addresses u owns leave every other user's pending claims (db.hpp, "Claims").
        for (auto const& [tag, owned] :
             {std::pair<char, std::vector<std::string> const*>{email_tag, &now.emails}, {phone_tag, &now.phones}})
            for (auto const& address : *owned)
                if (auto r = release_pending_claims(w, tag, address, u); !r) return r;

        // Free the keys the user no longer holds, then add the new ones.
        auto sync_index = [&](MDB_dbi dbi, std::vector<std::string> const& old_keys,
                              std::vector<std::string> const& new_keys) -> result<void> {
            for (auto const& k : old_keys)
                if (!k.empty() && !contains(new_keys, k))
                    if (auto r = del_if_owned(w, dbi, k, u.id); !r) return r;
            for (auto const& k : new_keys)
                if (!k.empty() && !contains(old_keys, k))
                    if (auto r = w.put(dbi, k, u.id); !r) return r;
            return {};
        };
        if (auto r = sync_index(t_.users_by_email, before.emails, now.emails); !r) return r;
        if (auto r = sync_index(t_.users_by_phone, before.phones, now.phones); !r) return r;
        if (auto r = sync_index(t_.users_by_identification, before.idns, now.idns); !r) return r;
        if (auto r = sync_index(t_.users_by_username, {before.username}, {now.username}); !r) return r;
        if (auto r = sync_index(t_.users_by_external_id, {before.external_id}, {now.external_id}); !r) return r;
        {  // the search index (issue 23): keys carry the user id, plain puts and deletes
            auto const terms_before = *stored ? search_keys(**stored) : std::vector<std::string>{};
            auto const terms_now = search_keys(u);
            for (auto const& k : terms_before)
                if (!contains(terms_now, k))
                    if (auto r = w.del(t_.users_by_term, k); !r) return r;
            for (auto const& k : terms_now)
                if (!contains(terms_before, k))
                    if (auto r = w.put(t_.users_by_term, k, {}); !r) return r;
        }
        auto const claims_before = claim_keys(before, u.id);  // keys carry the user id: plain deletes
        for (auto const& c : claims_before)
            if (!contains(claims_now, c))
                if (auto r = w.del(t_.users_by_pending_claim, c); !r) return r;
        for (auto const& c : claims_now)
            if (!contains(claims_before, c))
                if (auto r = w.put(t_.users_by_pending_claim, c, {}); !r) return r;
        return w.put(t_.users, u.id, encode(u));
    });
}

result<void> db::release_pending_claims(write_txn& w, char tag, std::string const& address,
                                        user_record const& owner) const {
    std::vector<std::string> holders;
    auto const prefix = claim_prefix(tag, address);
    auto r = scan(w, t_.users_by_pending_claim, prefix, false, [&](cursor::entry const& e) -> result<step> {
        if (e.first.substr(prefix.size()) != owner.id) holders.emplace_back(e.first.substr(prefix.size()));
        return step::next;
    });
    if (!r) return r;
    std::string const kind = tag == email_tag ? "email_address" : "phone_number";
    for (auto const& id : holders) {
        auto stored = get_user(w, id);
        if (!stored) return stored.error();
        if (!*stored) {  // cannot happen (delete_user drops the keys); never let it block the owner
            if (auto x = w.del(t_.users_by_pending_claim, claim_key(tag, address, id)); !x) return x;
            continue;
        }
        user_record const before = **stored;
        user_record other = before;
        drop_pending_claims(other, kind, address, owner.updated_at);
        // Only keys leave `other`, so this cannot conflict; nor release anything (no pending claim sits on an
        // address someone owns).
        if (auto x = put_user(w, other, &before); !x) return x;
    }
    return {};
}

result<void> db::delete_user(write_txn& w, user_record const& u) const noexcept {
    return guarded([&]() -> result<void> {
        auto stored = get_user(w, u.id);
        if (!stored) return stored.error();
        // The stored record is what the indexes hold; `u` covers a caller holding a newer copy.
        auto drop = [&](user_record const& r) -> result<void> {
            auto const k = keys_of(r);
            for (auto const& e : k.emails)
                if (auto x = del_if_owned(w, t_.users_by_email, e, u.id); !x) return x;
            for (auto const& p : k.phones)
                if (auto x = del_if_owned(w, t_.users_by_phone, p, u.id); !x) return x;
            for (auto const& c : claim_keys(k, u.id))
                if (auto x = w.del(t_.users_by_pending_claim, c); !x) return x;
            for (auto const& i : k.idns)
                if (auto x = del_if_owned(w, t_.users_by_identification, i, u.id); !x) return x;
            if (auto x = del_if_owned(w, t_.users_by_username, k.username, u.id); !x) return x;
            for (auto const& term : search_keys(r))
                if (auto x = w.del(t_.users_by_term, term); !x) return x;
            return del_if_owned(w, t_.users_by_external_id, k.external_id, u.id);
        };
        if (*stored)
            if (auto r = drop(**stored); !r) return r;
        if (auto r = drop(u); !r) return r;
        // Collect first: deleting under a live cursor would need cursor-relative deletes.
        std::vector<std::string> keys;
        auto const prefix = user_session_prefix(u.id);
        auto s = scan(w, t_.sessions_by_user, prefix, false, [&](cursor::entry const& e) -> result<step> {
            keys.emplace_back(e.first);
            return step::next;
        });
        if (!s) return s;
        for (auto const& key : keys)
            if (auto r = w.del(t_.sessions_by_user, key); !r) return r;
        return w.del(t_.users, u.id);
    });
}

result<std::optional<user_record>> db::get_user(txn const& t, std::string_view id) const noexcept {
    return guarded([&] { return get_record<user_record>(t, t_.users, id); });
}

result<std::optional<std::string>> db::user_id_by_email(txn const& t, std::string_view normalized) const noexcept {
    return guarded([&] { return get_string(t, t_.users_by_email, lower(normalized)); });
}

result<std::optional<std::string>> db::user_id_by_phone(txn const& t, std::string_view e164) const noexcept {
    return guarded([&] { return get_string(t, t_.users_by_phone, e164); });
}

result<std::optional<std::string>> db::user_id_by_username(txn const& t, std::string_view name) const noexcept {
    return guarded([&] { return get_string(t, t_.users_by_username, lower(name)); });
}

result<std::optional<std::string>> db::user_id_by_external_id(txn const& t, std::string_view v) const noexcept {
    return guarded([&] { return get_string(t, t_.users_by_external_id, v); });
}

result<std::optional<std::string>> db::user_id_by_identification(txn const& t, std::string_view idn) const noexcept {
    return guarded([&] { return get_string(t, t_.users_by_identification, idn); });
}

result<std::vector<user_record>> db::list_users(txn const& t, user_filter const& f) const noexcept {
    return guarded([&]() -> result<std::vector<user_record>> {
        if (f.limit == 0) return std::vector<user_record>{};
        auto const order = parse_order(f.order_by);
        // Creation order walks users in key order and stops at the page; other orders need every match.
        bool const streams = order.field == order_field::created_at;
        std::size_t budget = SIZE_MAX;
        if (streams && !f.search.empty()) {
            auto n = t.count(t_.users);
            if (!n) return n.error();
            budget = search_budget(*n, f.offset + f.limit);
        }
        auto ids_ = resolve_ids(t, f, t_.users_by_email, t_.users_by_phone, t_.users_by_username,
                                t_.users_by_external_id, t_.users_by_pending_claim);
        if (!ids_) return ids_.error();
        auto c = resolve_candidates(t, f, t_.users_by_term, budget, std::move(*ids_));
        if (!c) return c.error();
        if (c->none) return std::vector<user_record>{};
        // Named references, not a structured binding: the lambdas below capture them (clang 14 cannot).
        auto const& ids = c->ids;
        auto const& q = c->q;
        auto const& search = c->search;

        if (streams) {
            // Creation order is key order: stream, decoding only what may land on the page.
            pager<user_record> p{f.offset, f.limit};
            auto r =
                visit_users(t, t_.users, ids, q, c->needle(), order.desc, [&](std::string_view raw) -> result<step> {
                    if (q.empty() && search.empty() && !p.wants()) {  // every candidate matches: skip without decoding
                        ++p.seen;
                        return step::next;
                    }
                    auto u = decode_if_matches(raw, q, search);
                    if (!u) return u.error();
                    if (!*u) return step::next;
                    if (p.wants()) p.out.push_back(std::move(**u));
                    ++p.seen;
                    return more_if(!p.full());
                });
            if (!r) return r.error();
            return std::move(p.out);
        }

        // Other orders: sort (key, id) pairs of every match, then load the page.
        std::vector<sort_entry> keys;
        auto r = visit_users(t, t_.users, ids, q, c->needle(), false, [&](std::string_view raw) -> result<step> {
            auto u = decode_if_matches(raw, q, search);
            if (!u) return u.error();
            if (*u) keys.push_back(sort_key(**u, order.field));
            return step::next;
        });
        if (!r) return r.error();
        auto less = [&](sort_entry const& a, sort_entry const& b) { return sorts_before(a, b, order); };
        auto const [from, to] = page_of(keys.size(), f.offset, f.limit);
        if (from == to) return std::vector<user_record>{};
        std::partial_sort(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(to), keys.end(), less);
        std::vector<user_record> out;
        out.reserve(to - from);
        for (std::size_t i = from; i < to; ++i) {
            auto u = get_user(t, keys[i].id);
            if (!u) return u.error();
            if (*u) out.push_back(std::move(**u));
        }
        return out;
    });
}

result<std::size_t> db::count_users(txn const& t, user_filter const& f) const noexcept {
    return guarded([&]() -> result<std::size_t> {
        std::size_t const cap = f.search.empty() ? SIZE_MAX : f.search_count_cap;
        auto ids_ = resolve_ids(t, f, t_.users_by_email, t_.users_by_phone, t_.users_by_username,
                                t_.users_by_external_id, t_.users_by_pending_claim);
        if (!ids_) return ids_.error();
        // Without a query, a search alone counts the distinct users of its index range up to the cap (budget 0:
        // never as an id list, which would be read back record by record).
        auto c = resolve_candidates(t, f, t_.users_by_term, f.query.empty() ? 0 : SIZE_MAX, std::move(*ids_));
        if (!c) return c.error();
        if (c->none) return std::size_t{0};
        // Named references, not a structured binding: the lambdas below capture them (clang 14 cannot).
        auto const& ids = c->ids;
        auto const& q = c->q;
        auto const& search = c->search;
        if (!ids && q.empty() && search.empty()) return t.count(t_.users);
        if (!ids && q.empty()) {
            std::unordered_set<std::string_view> seen;
            auto r = scan(t, t_.users_by_term, search, false, [&](cursor::entry const& e) -> result<step> {
                seen.insert(search_key_user(e.first));
                return more_if(seen.size() < cap);
            });
            if (!r) return r.error();
            return std::min(seen.size(), cap);
        }
        std::size_t n = 0;
        auto r = visit_users(t, t_.users, ids, q, c->needle(), false, [&](std::string_view raw) -> result<step> {
            if (q.empty() && search.empty()) {
                ++n;
                return step::next;
            }
            auto u = decode_if_matches(raw, q, search);
            if (!u) return u.error();
            if (*u) ++n;
            return more_if(n < cap);
        });
        if (!r) return r.error();
        return std::min(n, cap);
    });
}

// ---- sessions ----

result<void> db::put_session(write_txn& w, session_record const& s) const noexcept {
    return guarded([&]() -> result<void> {
        if (s.id.empty() || s.id.size() > max_key_size) return make_error_code(errc::invalid_key);
        if (!s.user_id.empty())
            if (auto r = w.put(t_.sessions_by_user, user_session_key(s.user_id, s.id), {}); !r) return r;
        return w.put(t_.sessions, s.id, encode(s));
    });
}

result<std::optional<session_record>> db::get_session(txn const& t, std::string_view id) const noexcept {
    return guarded([&] { return get_record<session_record>(t, t_.sessions, id); });
}

result<std::vector<session_record>> db::sessions_of_user(txn const& t, std::string_view user_id) const noexcept {
    return guarded([&]() -> result<std::vector<session_record>> {
        std::vector<session_record> out;
        if (user_id.empty()) return out;
        std::vector<std::string> ids;
        auto const prefix = user_session_prefix(user_id);
        auto r = scan(t, t_.sessions_by_user, prefix, true, [&](cursor::entry const& e) -> result<step> {
            ids.emplace_back(e.first.substr(prefix.size()));
            return step::next;
        });
        if (!r) return r.error();
        out.reserve(ids.size());
        for (auto const& id : ids) {
            auto s = get_session(t, id);
            if (!s) return s.error();
            if (*s) out.push_back(std::move(**s));
        }
        return out;
    });
}

result<std::vector<session_record>> db::list_sessions(txn const& t, std::string_view user_id,
                                                      std::string_view client_id, std::string_view status,
                                                      std::size_t limit, std::size_t offset,
                                                      std::size_t* total) const noexcept {
    return guarded([&]() -> result<std::vector<session_record>> {
        pager<session_record> p{offset, limit};
        auto keep = [&](session_record const& s) {
            return (user_id.empty() || s.user_id == user_id) && (client_id.empty() || s.client_id == client_id) &&
                   (status.empty() || s.status == status);
        };
        // Offers one session; false once nothing more is needed (the page is full and no total is wanted).
        auto offer = [&](session_record&& s) {
            if (!keep(s)) return step::next;
            if (p.wants()) p.out.push_back(std::move(s));
            ++p.seen;
            return more_if(total != nullptr || !p.full());
        };
        auto by_ids = [&](std::vector<std::string> const& ids) -> result<void> {  // ids newest first
            for (auto const& id : ids) {
                auto s = get_session(t, id);
                if (!s) return s.error();
                if (*s && offer(std::move(**s)) == step::stop) break;
            }
            return {};
        };

        std::optional<std::vector<std::string>> ids;
        if (!user_id.empty()) {
            ids.emplace();
            auto const prefix = user_session_prefix(user_id);
            auto r = scan(t, t_.sessions_by_user, prefix, true, [&](cursor::entry const& e) -> result<step> {
                ids->emplace_back(e.first.substr(prefix.size()));
                return step::next;
            });
            if (!r) return r.error();
        } else if (!client_id.empty()) {
            auto c = get_client(t, client_id);
            if (!c) return c.error();
            if (*c) {
                ids = std::move((*c)->session_ids);
                std::sort(ids->begin(), ids->end(), std::greater<>{});
                ids->erase(std::unique(ids->begin(), ids->end()), ids->end());
            }
        }
        if (ids) {
            if (auto r = by_ids(*ids); !r) return r.error();
        } else if (client_id.empty() && status.empty()) {
            // Unfiltered: the total is the table size and only the page is decoded.
            auto n = t.count(t_.sessions);
            if (!n) return n.error();
            auto r = scan(t, t_.sessions, {}, true, [&](cursor::entry const& e) -> result<step> {
                if (!p.wants()) {
                    ++p.seen;
                    return more_if(!p.full());
                }
                auto s = decode<session_record>(e.second);
                if (!s) return s.error();
                p.out.push_back(std::move(*s));
                ++p.seen;
                return more_if(!p.full());
            });
            if (!r) return r.error();
            p.seen = *n;
        } else {
            auto r = scan(t, t_.sessions, {}, true, [&](cursor::entry const& e) -> result<step> {
                auto s = decode<session_record>(e.second);
                if (!s) return s.error();
                return offer(std::move(*s));
            });
            if (!r) return r.error();
        }
        if (total != nullptr) *total = p.seen;
        return std::move(p.out);
    });
}

// ---- clients ----

result<void> db::put_client(write_txn& w, client_record const& c) const noexcept {
    return guarded([&] { return w.put(t_.clients, c.id, encode(c)); });
}

result<void> db::delete_client(write_txn& w, std::string_view id) const noexcept { return w.del(t_.clients, id); }

result<std::optional<client_record>> db::get_client(txn const& t, std::string_view id) const noexcept {
    return guarded([&] { return get_record<client_record>(t, t_.clients, id); });
}

result<std::vector<client_record>> db::list_clients(txn const& t, std::size_t limit, std::size_t offset,
                                                    std::size_t* total) const noexcept {
    return guarded([&]() -> result<std::vector<client_record>> {
        if (total != nullptr) {
            auto n = t.count(t_.clients);
            if (!n) return n.error();
            *total = *n;
        }
        pager<client_record> p{offset, limit};
        if (limit == 0) return std::move(p.out);
        auto r = scan(t, t_.clients, {}, true, [&](cursor::entry const& e) -> result<step> {
            if (!p.wants()) {
                ++p.seen;
                return step::next;
            }
            auto c = decode<client_record>(e.second);
            if (!c) return c.error();
            p.out.push_back(std::move(*c));
            return more_if(!p.full());
        });
        if (!r) return r.error();
        return std::move(p.out);
    });
}

// ---- sign-ins / sign-ups / dev browsers ----

result<void> db::put_sign_in(write_txn& w, sign_in_record const& s) const noexcept {
    return guarded([&] { return w.put(t_.sign_ins, s.id, encode(s)); });
}

result<std::optional<sign_in_record>> db::get_sign_in(txn const& t, std::string_view id) const noexcept {
    return guarded([&] { return get_record<sign_in_record>(t, t_.sign_ins, id); });
}

result<void> db::put_sign_up(write_txn& w, sign_up_record const& s) const noexcept {
    return guarded([&] { return w.put(t_.sign_ups, s.id, encode(s)); });
}

result<std::optional<sign_up_record>> db::get_sign_up(txn const& t, std::string_view id) const noexcept {
    return guarded([&] { return get_record<sign_up_record>(t, t_.sign_ups, id); });
}

result<void> db::put_dev_browser(write_txn& w, dev_browser_record const& d) const noexcept {
    return guarded([&] { return w.put(t_.dev_browsers, d.id, encode(d)); });
}

result<void> db::delete_dev_browser(write_txn& w, std::string_view id) const noexcept {
    return w.del(t_.dev_browsers, id);
}

result<std::optional<dev_browser_record>> db::get_dev_browser(txn const& t, std::string_view id) const noexcept {
    return guarded([&] { return get_record<dev_browser_record>(t, t_.dev_browsers, id); });
}

// ---- JWT templates ----

result<void> db::put_jwt_template(write_txn& w, jwt_template_record const& j, jwt_template_record const* previous,
                                  unique_field* conflict) const noexcept {
    return guarded([&]() -> result<void> {
        auto taken = [&](unique_field f) -> result<void> {
            if (conflict != nullptr) *conflict = f;
            return make_error_code(errc::key_exists);
        };
        if (j.id.empty() || j.id.size() > max_key_size || j.name.empty() || j.name.size() > max_key_size)
            return make_error_code(errc::invalid_key);
        auto stored = get_jwt_template(w, j.id);
        if (!stored) return stored.error();
        if (previous == nullptr && *stored) return taken(unique_field::none);
        auto holder = w.get(t_.jwt_templates_by_name, j.name);
        if (!holder) return holder.error();
        if (*holder && **holder != j.id) return taken(unique_field::jwt_template_name);
        if (*stored && (*stored)->name != j.name)
            if (auto r = del_if_owned(w, t_.jwt_templates_by_name, (*stored)->name, j.id); !r) return r;
        if (auto r = w.put(t_.jwt_templates_by_name, j.name, j.id); !r) return r;
        return w.put(t_.jwt_templates, j.id, encode(j));
    });
}

result<void> db::delete_jwt_template(write_txn& w, jwt_template_record const& j) const noexcept {
    return guarded([&]() -> result<void> {
        auto stored = get_jwt_template(w, j.id);
        if (!stored) return stored.error();
        if (*stored)
            if (auto r = del_if_owned(w, t_.jwt_templates_by_name, (*stored)->name, j.id); !r) return r;
        if (auto r = del_if_owned(w, t_.jwt_templates_by_name, j.name, j.id); !r) return r;
        return w.del(t_.jwt_templates, j.id);
    });
}

result<std::optional<jwt_template_record>> db::get_jwt_template(txn const& t, std::string_view id) const noexcept {
    return guarded([&] { return get_record<jwt_template_record>(t, t_.jwt_templates, id); });
}

result<std::optional<jwt_template_record>> db::jwt_template_by_name(txn const& t,
                                                                    std::string_view name) const noexcept {
    return guarded([&]() -> result<std::optional<jwt_template_record>> {
        auto id = t.get(t_.jwt_templates_by_name, name);
        if (!id) return id.error();
        if (!*id) return std::optional<jwt_template_record>{};
        return get_record<jwt_template_record>(t, t_.jwt_templates, **id);
    });
}

result<std::vector<jwt_template_record>> db::list_jwt_templates(txn const& t) const noexcept {
    return guarded([&]() -> result<std::vector<jwt_template_record>> {
        std::vector<jwt_template_record> out;
        auto r = scan(t, t_.jwt_templates, {}, false, [&](cursor::entry const& e) -> result<step> {
            auto j = decode<jwt_template_record>(e.second);
            if (!j) return j.error();
            out.push_back(std::move(*j));
            return step::next;
        });
        if (!r) return r.error();
        return out;
    });
}

// ---- meta ----

result<void> db::put_meta(write_txn& w, std::string_view key, std::string_view value) const noexcept {
    return w.put(t_.meta, key, value);
}

result<std::optional<std::string>> db::get_meta(txn const& t, std::string_view key) const noexcept {
    return guarded([&] { return get_string(t, t_.meta, key); });
}

result<void> db::delete_meta(write_txn& w, std::string_view key) const noexcept { return w.del(t_.meta, key); }

// ---- the seam (store/store.hpp): the repositories over one LMDB txn ----

namespace {

/// What every repository of one txn holds: the table functions, the txn, and in a write txn the writable txn.
struct bound {
    db const* d;
    txn const* t;
    write_txn* w;  ///< null in a read txn (whose repositories are only ever handed out as views)
    db::tables const* dbis;
};

class users_impl final : public bound_repo<users_repo, bound> {
public:
    using bound_repo::bound_repo;
    result<std::optional<user_record>> get(std::string_view id) const noexcept override {
        return b_.d->get_user(*b_.t, id);
    }
    result<std::optional<std::string>> id_by_email(std::string_view v) const noexcept override {
        return b_.d->user_id_by_email(*b_.t, v);
    }
    result<std::optional<std::string>> id_by_phone(std::string_view v) const noexcept override {
        return b_.d->user_id_by_phone(*b_.t, v);
    }
    result<std::optional<std::string>> id_by_username(std::string_view v) const noexcept override {
        return b_.d->user_id_by_username(*b_.t, v);
    }
    result<std::optional<std::string>> id_by_external_id(std::string_view v) const noexcept override {
        return b_.d->user_id_by_external_id(*b_.t, v);
    }
    result<std::optional<std::string>> id_by_identification(std::string_view v) const noexcept override {
        return b_.d->user_id_by_identification(*b_.t, v);
    }
    result<std::vector<user_record>> list(user_filter const& f) const noexcept override {
        return b_.d->list_users(*b_.t, f);
    }
    result<std::size_t> count(user_filter const& f) const noexcept override { return b_.d->count_users(*b_.t, f); }
    result<void> put(user_record const& u, user_record const* previous, unique_field* conflict) noexcept override {
        return b_.d->put_user(*b_.w, u, previous, conflict);
    }
    result<void> remove(user_record const& u) noexcept override { return b_.d->delete_user(*b_.w, u); }
};

class sessions_impl final : public bound_repo<sessions_repo, bound> {
public:
    using bound_repo::bound_repo;
    result<std::optional<session_record>> get(std::string_view id) const noexcept override {
        return b_.d->get_session(*b_.t, id);
    }
    result<std::vector<session_record>> of_user(std::string_view user_id) const noexcept override {
        return b_.d->sessions_of_user(*b_.t, user_id);
    }
    result<std::vector<session_record>> list(std::string_view user_id, std::string_view client_id,
                                             std::string_view status, std::size_t limit, std::size_t offset,
                                             std::size_t* total) const noexcept override {
        return b_.d->list_sessions(*b_.t, user_id, client_id, status, limit, offset, total);
    }
    result<void> put(session_record const& s) noexcept override { return b_.d->put_session(*b_.w, s); }
};

class clients_impl final : public bound_repo<clients_repo, bound> {
public:
    using bound_repo::bound_repo;
    result<std::optional<client_record>> get(std::string_view id) const noexcept override {
        return b_.d->get_client(*b_.t, id);
    }
    result<std::vector<client_record>> list(std::size_t limit, std::size_t offset,
                                            std::size_t* total) const noexcept override {
        return b_.d->list_clients(*b_.t, limit, offset, total);
    }
    result<void> put(client_record const& c) noexcept override { return b_.d->put_client(*b_.w, c); }
    result<void> remove(std::string_view id) noexcept override { return b_.d->delete_client(*b_.w, id); }
};

/// The table of a family found by id only.
template <class Record>
MDB_dbi records_of(db::tables const& t) noexcept {
    if constexpr (std::is_same_v<Record, sign_in_record>) return t.sign_ins;
    if constexpr (std::is_same_v<Record, sign_up_record>) return t.sign_ups;
    if constexpr (std::is_same_v<Record, dev_browser_record>) return t.dev_browsers;
    if constexpr (std::is_same_v<Record, image_record>) return t.images;
}

/// A family found by id only: one table of encoded records.
template <class Record>
class by_id_impl final : public by_id_repo<Record> {
public:
    explicit by_id_impl(bound const& b) noexcept : b_(b), dbi_(records_of<Record>(*b.dbis)) {}
    result<std::optional<Record>> get(std::string_view id) const noexcept override {
        return guarded([&] { return get_record<Record>(*b_.t, dbi_, id); });
    }
    result<void> put(Record const& r) noexcept override {
        return guarded([&] { return b_.w->put(dbi_, r.id, encode(r)); });
    }
    result<void> remove(std::string_view id) noexcept override { return b_.w->del(dbi_, id); }

private:
    bound const& b_;
    MDB_dbi dbi_;
};

class jwt_templates_impl final : public bound_repo<jwt_templates_repo, bound> {
public:
    using bound_repo::bound_repo;
    result<std::optional<jwt_template_record>> get(std::string_view id) const noexcept override {
        return b_.d->get_jwt_template(*b_.t, id);
    }
    result<std::optional<jwt_template_record>> by_name(std::string_view name) const noexcept override {
        return b_.d->jwt_template_by_name(*b_.t, name);
    }
    result<std::vector<jwt_template_record>> list() const noexcept override { return b_.d->list_jwt_templates(*b_.t); }
    result<void> put(jwt_template_record const& j, jwt_template_record const* previous,
                     unique_field* conflict) noexcept override {
        return b_.d->put_jwt_template(*b_.w, j, previous, conflict);
    }
    result<void> remove(jwt_template_record const& j) noexcept override { return b_.d->delete_jwt_template(*b_.w, j); }
};

class meta_impl final : public bound_repo<meta_repo, bound> {
public:
    using bound_repo::bound_repo;
    result<std::optional<std::string>> get(std::string_view key) const noexcept override {
        return b_.d->get_meta(*b_.t, key);
    }
    result<void> put(std::string_view key, std::string_view value) noexcept override {
        return b_.d->put_meta(*b_.w, key, value);
    }
    result<void> remove(std::string_view key) noexcept override { return b_.d->delete_meta(*b_.w, key); }
};

/// Jobs: `jobs` (id -> record) and `jobs_due` (<next_attempt_at: 8 bytes big-endian unix ms><id> -> "", pending
/// jobs only), so the first key of jobs_due is the next job due and a due scan reads only what it takes.
std::string due_key(std::int64_t at_ms, std::string_view id) {
    auto const t = static_cast<std::uint64_t>(std::max<std::int64_t>(0, at_ms));
    std::string k(8, '\0');
    for (int i = 0; i < 8; ++i) k[static_cast<std::size_t>(i)] = static_cast<char>((t >> (56 - 8 * i)) & 0xff);
    k.append(id);
    return k;
}

std::int64_t due_time(std::string_view key) noexcept {
    std::uint64_t t = 0;
    for (std::size_t i = 0; i < 8 && i < key.size(); ++i) t = (t << 8) | static_cast<unsigned char>(key[i]);
    return static_cast<std::int64_t>(t);
}

class jobs_impl final : public bound_repo<jobs_repo, bound> {
public:
    explicit jobs_impl(bound const& b) noexcept : bound_repo(b), jobs_(b.dbis->jobs), due_(b.dbis->jobs_due) {}
    result<std::optional<job_record>> get(std::string_view id) const noexcept override {
        return guarded([&] { return get_record<job_record>(*b_.t, jobs_, id); });
    }
    result<std::vector<job_record>> due(std::int64_t now_ms, std::size_t max) const noexcept override {
        return guarded([&]() -> result<std::vector<job_record>> {
            std::vector<job_record> out;
            auto c = cursor::open(*b_.t, due_);
            if (!c) return c.error();
            for (auto e = c->first(); out.size() < max; e = c->next()) {
                if (!e) return e.error();
                if (!*e || due_time((*e)->first) > now_ms) break;
                auto j = get_record<job_record>(*b_.t, jobs_, std::string_view((*e)->first).substr(8));
                if (!j) return j.error();
                if (*j) out.push_back(std::move(**j));
            }
            return out;
        });
    }
    result<std::optional<std::int64_t>> next_due() const noexcept override {
        return guarded([&]() -> result<std::optional<std::int64_t>> {
            auto c = cursor::open(*b_.t, due_);
            if (!c) return c.error();
            auto e = c->first();
            if (!e) return e.error();
            if (!*e) return std::optional<std::int64_t>{};
            return std::optional<std::int64_t>{due_time((*e)->first)};
        });
    }
    result<std::vector<job_record>> list(std::size_t limit) const noexcept override {
        return guarded([&]() -> result<std::vector<job_record>> {
            std::vector<job_record> out;
            auto c = cursor::open(*b_.t, jobs_);
            if (!c) return c.error();
            for (auto e = c->first(); out.size() < limit; e = c->next()) {
                if (!e) return e.error();
                if (!*e) break;
                auto r = decode<job_record>((*e)->second);
                if (!r) return r.error();
                out.push_back(std::move(*r));
            }
            return out;
        });
    }
    result<queue_counts> counts() const noexcept override {
        auto all = b_.t->count(jobs_);
        if (!all) return all.error();
        auto due = b_.t->count(due_);
        if (!due) return due.error();
        return queue_counts{*due, *all >= *due ? *all - *due : 0};
    }
    result<void> put(job_record const& j, bool insert) noexcept override {
        return guarded([&]() -> result<void> {
            if (j.id.empty() || j.id.size() + 8 > max_key_size) return make_error_code(errc::invalid_key);
            auto old = get_record<job_record>(*b_.t, jobs_, j.id);
            if (!old) return old.error();
            if (*old && insert) return make_error_code(errc::key_exists);
            if (*old && (*old)->state == "pending")
                if (auto d = b_.w->del(due_, due_key((*old)->next_attempt_at, j.id)); !d) return d;
            if (auto p = b_.w->put(jobs_, j.id, encode(j)); !p) return p;
            if (j.state == "pending") return b_.w->put(due_, due_key(j.next_attempt_at, j.id), {});
            return {};
        });
    }
    result<void> remove(std::string_view id) noexcept override {
        return guarded([&]() -> result<void> {
            auto old = get_record<job_record>(*b_.t, jobs_, id);
            if (!old) return old.error();
            if (!*old) return {};
            if ((*old)->state == "pending")
                if (auto d = b_.w->del(due_, due_key((*old)->next_attempt_at, id)); !d) return d;
            return b_.w->del(jobs_, id);
        });
    }

private:
    MDB_dbi jobs_, due_;
};

}  // namespace

namespace {

/// Waitlist: `waitlist_entries` (wle_ id -> record) and `waitlist_by_email` (lowercased address -> id, unique).
class waitlist_impl final : public bound_repo<waitlist_repo, bound> {
public:
    explicit waitlist_impl(bound const& b) noexcept
        : bound_repo(b), entries_(b.dbis->waitlist_entries), by_email_(b.dbis->waitlist_by_email) {}
    result<std::optional<waitlist_entry_record>> get(std::string_view id) const noexcept override {
        return guarded([&] { return get_record<waitlist_entry_record>(*b_.t, entries_, id); });
    }
    result<std::optional<waitlist_entry_record>> by_email(std::string_view email) const noexcept override {
        return guarded([&]() -> result<std::optional<waitlist_entry_record>> {
            auto id = get_string(*b_.t, by_email_, email);
            if (!id) return id.error();
            if (!*id) return std::optional<waitlist_entry_record>{};
            return get_record<waitlist_entry_record>(*b_.t, entries_, **id);
        });
    }
    result<std::vector<waitlist_entry_record>> list(waitlist_filter const& f,
                                                    std::size_t* total) const noexcept override {
        return guarded([&]() -> result<std::vector<waitlist_entry_record>> {
            // A scan of every entry: waitlists are small next to users, and every order but creation needs the
            // whole match set anyway.
            std::vector<waitlist_entry_record> all;
            auto c = cursor::open(*b_.t, entries_);
            if (!c) return c.error();
            for (auto e = c->first();; e = c->next()) {
                if (!e) return e.error();
                if (!*e) break;
                auto r = decode<waitlist_entry_record>((*e)->second);
                if (!r) return r.error();
                if (matches(*r, f)) all.push_back(std::move(*r));
            }
            return select(std::move(all), f, total);
        });
    }
    result<std::size_t> count() const noexcept override { return b_.t->count(entries_); }
    result<void> put(waitlist_entry_record const& r, bool insert) noexcept override {
        return guarded([&]() -> result<void> {
            if (r.id.empty() || r.id.size() > max_key_size || r.email_address.empty() ||
                r.email_address.size() > max_key_size)
                return make_error_code(errc::invalid_key);
            if (insert) {
                if (auto x = b_.w->put(by_email_, r.email_address, r.id, MDB_NOOVERWRITE); !x) return x;
                return b_.w->put(entries_, r.id, encode(r), MDB_NOOVERWRITE);
            }
            return b_.w->put(entries_, r.id, encode(r));
        });
    }
    result<void> remove(waitlist_entry_record const& r) noexcept override {
        return guarded([&]() -> result<void> {
            auto old = get_record<waitlist_entry_record>(*b_.t, entries_, r.id);
            if (!old) return old.error();
            if (!*old) return {};
            auto v = get_string(*b_.t, by_email_, (*old)->email_address);
            if (!v) return v.error();
            if (*v && **v == r.id)
                if (auto x = b_.w->del(by_email_, (*old)->email_address); !x) return x;
            return b_.w->del(entries_, r.id);
        });
    }

private:
    MDB_dbi entries_, by_email_;
};

/// The table of a key-value family.
MDB_dbi kv_of(db::tables const& t, kv_table which) noexcept {
    switch (which) {
        case kv_table::organizations:
            return t.organizations;
        case kv_table::tickets:
            return t.tickets;
        case kv_table::oauth:
            return t.oauth;
        case kv_table::console:
            return t.console;
    }
    return t.organizations;
}

/// A key-value family's table (the family's own header keeps the keys and rules).
class org_kv_impl final : public org_kv {
public:
    org_kv_impl(bound const& b, kv_table which) noexcept : b_(b), dbi_(kv_of(*b.dbis, which)) {}
    result<std::optional<std::string>> get(std::string_view key) const noexcept override {
        return guarded([&] { return get_string(*b_.t, dbi_, key); });
    }
    result<void> scan(std::string_view prefix,
                      std::function<bool(std::string_view, std::string_view)> const& f) const noexcept override {
        return guarded([&]() -> result<void> {
            return lmdb::scan(*b_.t, dbi_, prefix, false,
                              [&](cursor::entry const& e) -> result<step> { return more_if(f(e.first, e.second)); });
        });
    }
    result<void> put(std::string_view key, std::string_view value, bool unique) noexcept override {
        return guarded([&] { return b_.w->put(dbi_, key, value, unique ? MDB_NOOVERWRITE : 0); });
    }
    result<void> del(std::string_view key) noexcept override { return b_.w->del(dbi_, key); }

private:
    bound const& b_;
    MDB_dbi dbi_;
};

/// Every repository of one txn (store/repositories.hpp).
using repositories = store::repositories<bound, users_impl, sessions_impl, clients_impl, by_id_impl, jwt_templates_impl,
                                         meta_impl, jobs_impl, waitlist_impl, org_kv_impl>;

}  // namespace

/// One LMDB txn seen through the seam. Lives on run_read's / run_write's stack (no allocation); a read txn is
/// handed out as store::read_txn only.
class db::txn_view final : public store::txn_of<repositories> {
public:
    txn_view(db const& d, lmdb::txn const& t, lmdb::write_txn* w) noexcept : txn_of(&d, &t, w, &d.t_) {}

    std::uint64_t version() const noexcept override { return r_.b.t->snapshot_id(); }
};

std::uint64_t db::version() const noexcept {
    MDB_envinfo info{};
    if (!env_ || ::mdb_env_info(env_.get(), &info) != MDB_SUCCESS) return 0;
    return static_cast<std::uint64_t>(info.me_last_txnid);
}

result<void> db::run_read(function_ref<result<void>(store::read_txn&)> body) const {
    auto t = read_txn::begin(env_);
    if (!t) return t.error();
    txn_view view(*this, *t, nullptr);
    return body(view);  // the LMDB txn returns to the env's pool when t goes out of scope
}

result<void> db::run_write(function_ref<result<void>(store::write_txn&)> body) {
    auto w = write_txn::begin(env_);
    if (!w) return w.error();
    txn_view view(*this, *w, &*w);
    if (auto r = body(view); !r) return r;  // the txn aborts in its destructor: nothing body wrote is visible
    if (auto c = std::move(*w).commit(); !c) return c.error();
    view.committed();
    return {};
}

result<void> db::run_write_with(function_ref<result<void>(store::write_txn&)> body, change_sink& sink,
                                function_ref<result<void>(write_txn&)> before_commit) {
    auto w = write_txn::begin(env_);
    if (!w) return w.error();
    txn_view view(*this, *w, &*w);
    w->record_to(&sink);
    if (auto r = body(view); !r) return r;
    w->record_to(nullptr);
    if (auto r = before_commit(*w); !r) return r;
    if (auto c = std::move(*w).commit(); !c) return c.error();
    view.committed();
    return {};
}

result<std::unique_ptr<store::database>> open(options const& o) noexcept {
    auto d = db::open(o);
    if (!d) return d.error();
    return std::unique_ptr<store::database>(std::move(*d));
}

}  // namespace latchkey::store::lmdb
