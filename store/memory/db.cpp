#include "store/memory/db.hpp"

#include "store/repositories.hpp"
#include "store/rules.hpp"
#include "store/waitlist.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <new>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace latchkey::store::memory {

template <class T>
using table = std::map<std::string, T, std::less<>>;

/// Every family, decoded. Unique indexes are not stored: lookups derive them from the records with the same
/// rules (store/rules.hpp) the LMDB backend indexes by. The user -> sessions links are stored, as in LMDB: a
/// removed user's session records stay, unlinked.
struct state {
    table<user_record> users;
    table<session_record> sessions;
    table<client_record> clients;
    table<sign_in_record> sign_ins;
    table<sign_up_record> sign_ups;
    table<dev_browser_record> dev_browsers;
    table<jwt_template_record> jwt_templates;
    table<std::string> meta;
    table<job_record> jobs;
    table<waitlist_entry_record> waitlist;
    table<std::string> organizations;  ///< the organizations family's ordered table (store/organizations.hpp)
    table<image_record> images;        ///< uploaded images by id (issue 14)
    table<std::string> tickets;        ///< the tickets family's ordered table (store/tickets.hpp)
    table<std::string> oauth;          ///< the OAuth provider family's ordered table (store/oauth.hpp)
    table<std::string> console;        ///< the admin console family's ordered table (store/console.hpp)
    std::set<std::pair<std::string, std::string>> sessions_by_user;  ///< (user id, session id)
};

namespace {

using namespace store::rules;  // NOLINT(google-build-using-namespace): the backend-neutral index rules
using boost::system::error_code;

bool storable(std::string_view key) noexcept { return !key.empty() && key.size() <= max_key_size; }

error_code invalid_key() noexcept { return make_error_code(errc::invalid_key); }

template <class T>
std::optional<T> find(table<T> const& t, std::string_view id) {
    auto it = t.find(id);
    if (it == t.end()) return std::nullopt;
    return it->second;
}

/// What `t` holds at `id`, as a repository's lookup returns it.
template <class T>
result<std::optional<T>> lookup(table<T> const& t, std::string_view id) {
    return find(t, id);
}

/// The first record of `t` whose `field` is `value` (a scan: this backend keeps no secondary index).
template <class T>
result<std::optional<T>> first_with(table<T> const& t, std::string T::*field, std::string_view value) {
    for (auto const& [id, r] : t)
        if (r.*field == value) return r;
    return std::nullopt;
}

/// Stores `v` at `key` in `t`: errc::invalid_key when the key cannot be stored.
template <class T>
result<void> put_at(table<T>& t, std::string_view key, T const& v) {
    if (!storable(key)) return invalid_key();
    t.insert_or_assign(std::string(key), v);
    return {};
}

/// Removes `key` from `t`; a missing key is not an error.
template <class T>
result<void> erase_at(table<T>& t, std::string_view key) {
    if (auto it = t.find(key); it != t.end()) t.erase(it);
    return {};
}

/// The id of the first user (other than `except`) whose keys satisfy `holds`.
template <class Pred>
std::optional<std::string> holder(state const& s, Pred holds, std::string_view except = {}) {
    for (auto const& [id, u] : s.users)
        if (id != except && holds(keys_of(u))) return id;
    return std::nullopt;
}

/// The page [offset, offset + limit) of `v`.
template <class T>
std::vector<T> page(std::vector<T> v, std::size_t offset, std::size_t limit) {
    auto const [from, to] = page_of(v.size(), offset, limit);
    return {std::make_move_iterator(v.begin() + static_cast<std::ptrdiff_t>(from)),
            std::make_move_iterator(v.begin() + static_cast<std::ptrdiff_t>(to))};
}

/// What the repositories of one txn see: the state (a snapshot, or the write txn's own copy) and, in a write
/// txn, the same state writable.
struct bound {
    state const* s;
    state* w;  ///< null in a read txn
};

class users_impl final : public bound_repo<users_repo, bound> {
public:
    using bound_repo::bound_repo;

    result<std::optional<user_record>> get(std::string_view id) const noexcept override {
        return guarded([&] { return lookup(b_.s->users, id); });
    }
    result<std::optional<std::string>> id_by_email(std::string_view v) const noexcept override {
        return guarded([&]() -> result<std::optional<std::string>> {
            auto const key = lower(v);
            return holder(*b_.s, [&](user_keys const& k) { return contains(k.emails, key); });
        });
    }
    result<std::optional<std::string>> id_by_phone(std::string_view v) const noexcept override {
        return guarded([&]() -> result<std::optional<std::string>> {
            std::string const key(v);
            return holder(*b_.s, [&](user_keys const& k) { return contains(k.phones, key); });
        });
    }
    result<std::optional<std::string>> id_by_username(std::string_view v) const noexcept override {
        return guarded([&]() -> result<std::optional<std::string>> {
            auto const key = lower(v);
            if (key.empty()) return std::nullopt;
            return holder(*b_.s, [&](user_keys const& k) { return k.username == key; });
        });
    }
    result<std::optional<std::string>> id_by_external_id(std::string_view v) const noexcept override {
        return guarded([&]() -> result<std::optional<std::string>> {
            if (v.empty()) return std::nullopt;
            return holder(*b_.s, [&](user_keys const& k) { return k.external_id == v; });
        });
    }
    result<std::optional<std::string>> id_by_identification(std::string_view v) const noexcept override {
        return guarded([&]() -> result<std::optional<std::string>> {
            std::string const key(v);
            return holder(*b_.s, [&](user_keys const& k) { return contains(k.idns, key); });
        });
    }

    result<std::vector<user_record>> list(user_filter const& f) const noexcept override {
        return guarded([&]() -> result<std::vector<user_record>> {
            if (f.limit == 0) return std::vector<user_record>{};
            auto const order = parse_order(f.order_by);
            auto matches = matching(f);
            if (order.field == order_field::created_at) {
                if (order.desc) std::reverse(matches.begin(), matches.end());
                return page(std::move(matches), f.offset, f.limit);
            }
            std::stable_sort(matches.begin(), matches.end(), [&](user_record const& a, user_record const& b) {
                return sorts_before(sort_key(a, order.field), sort_key(b, order.field), order);
            });
            return page(std::move(matches), f.offset, f.limit);
        });
    }
    result<std::size_t> count(user_filter const& f) const noexcept override {
        return guarded([&]() -> result<std::size_t> {
            auto const n = matching(f).size();
            return f.search.empty() ? n : std::min(n, f.search_count_cap);
        });
    }

    result<void> put(user_record const& u, user_record const* previous, unique_field* conflict) noexcept override {
        return guarded([&]() -> result<void> {
            state& s = *b_.w;
            auto taken = [&](unique_field f) -> result<void> {
                if (conflict != nullptr) *conflict = f;
                return make_error_code(errc::key_exists);
            };
            if (!storable(u.id)) return invalid_key();
            bool const exists = s.users.contains(u.id);
            if (previous == nullptr && exists) return taken(unique_field::none);  // an insert never overwrites
            auto const now = keys_of(u);

            // Check everything before writing anything, in the order the LMDB backend does.
            if (has_duplicates(now.all_emails())) return taken(unique_field::email_address);
            if (has_duplicates(now.all_phones())) return taken(unique_field::phone_number);
            if (has_duplicates(now.idns)) return taken(unique_field::none);
            for (auto const* pending : {&now.pending_emails, &now.pending_phones})
                for (auto const& a : *pending)  // a pending claim's key: tag, NUL, address, NUL, user id
                    if (3 + a.size() + u.id.size() > max_key_size) return invalid_key();
            auto check = [&](std::vector<std::string> const& keys, unique_field f, auto held_by) -> result<void> {
                for (auto const& k : keys) {
                    if (k.empty()) continue;
                    if (k.size() > max_key_size) return invalid_key();
                    if (holder(
                            s, [&](user_keys const& o) { return held_by(o, k); }, u.id))
                        return taken(f);
                }
                return {};
            };
            // An owned address refuses every other claim on it, owning or pending.
            if (auto r = check(now.all_emails(), unique_field::email_address,
                               [](user_keys const& o, std::string const& k) { return contains(o.emails, k); });
                !r)
                return r;
            if (auto r = check(now.all_phones(), unique_field::phone_number,
                               [](user_keys const& o, std::string const& k) { return contains(o.phones, k); });
                !r)
                return r;
            if (auto r = check({now.username}, unique_field::username,
                               [](user_keys const& o, std::string const& k) { return o.username == k; });
                !r)
                return r;
            if (auto r = check({now.external_id}, unique_field::external_id,
                               [](user_keys const& o, std::string const& k) { return o.external_id == k; });
                !r)
                return r;
            if (auto r = check(now.idns, unique_field::none,
                               [](user_keys const& o, std::string const& k) { return contains(o.idns, k); });
                !r)
                return r;

            // The addresses u owns leave every other user's pending claims (store.hpp, users_repo::put).
            release(s, "email_address", now.emails, u);
            release(s, "phone_number", now.phones, u);
            s.users.insert_or_assign(u.id, u);
            return {};
        });
    }

    result<void> remove(user_record const& u) noexcept override {
        return guarded([&]() -> result<void> {
            state& s = *b_.w;
            s.users.erase(u.id);
            std::erase_if(s.sessions_by_user, [&](auto const& link) { return link.first == u.id; });
            return {};
        });
    }

private:
    /// The users f selects, in id (creation) order.
    std::vector<user_record> matching(user_filter const& f) const {
        state const& s = *b_.s;
        std::optional<std::vector<std::string>> ids;  // sorted, unique
        auto intersect = [&](std::vector<std::string> v) { intersect_ids(ids, std::move(v)); };
        auto resolve = [&](std::vector<std::string> const& values, auto holds) {
            if (values.empty()) return;
            std::vector<std::string> v;
            for (auto const& value : values)
                for (auto const& [id, u] : s.users)
                    if (holds(keys_of(u), value)) v.push_back(id);
            intersect(std::move(v));
        };
        resolve(f.email_addresses, [](user_keys const& k, std::string const& v) {
            auto const key = lower(v);
            return contains(k.emails, key) || contains(k.pending_emails, key);
        });
        resolve(f.phone_numbers, [](user_keys const& k, std::string const& v) {
            return contains(k.phones, v) || contains(k.pending_phones, v);
        });
        resolve(f.usernames,
                [](user_keys const& k, std::string const& v) { return !k.username.empty() && k.username == lower(v); });
        resolve(f.external_ids,
                [](user_keys const& k, std::string const& v) { return !v.empty() && k.external_id == v; });
        if (!f.user_ids.empty()) intersect(f.user_ids);

        std::string const q = lower(f.query);
        std::string const search = search_prefix(f.search);  // no index here: every term is tested
        std::vector<user_record> out;
        auto offer = [&](user_record const& u) {
            if (matches_query(u, q) && (f.search.empty() || search_matches(u, search))) out.push_back(u);
        };
        if (ids) {
            for (auto const& id : *ids)
                if (auto it = s.users.find(id); it != s.users.end()) offer(it->second);
        } else {
            for (auto const& [id, u] : s.users) offer(u);
        }
        return out;
    }

    /// Removes every pending claim of users other than `owner` on the addresses (of `kind`) it owns.
    static void release(state& s, std::string_view kind, std::vector<std::string> const& owned,
                        user_record const& owner) {
        for (auto const& address : owned) {
            for (auto& [id, other] : s.users)
                if (id != owner.id) drop_pending_claims(other, kind, address, owner.updated_at);
        }
    }
};

class sessions_impl final : public bound_repo<sessions_repo, bound> {
public:
    using bound_repo::bound_repo;

    result<std::optional<session_record>> get(std::string_view id) const noexcept override {
        return guarded([&] { return lookup(b_.s->sessions, id); });
    }
    result<std::vector<session_record>> of_user(std::string_view user_id) const noexcept override {
        return guarded([&]() -> result<std::vector<session_record>> {
            std::vector<session_record> out;
            if (user_id.empty()) return out;
            for (auto const& id : linked(user_id))
                if (auto s = find(b_.s->sessions, id)) out.push_back(std::move(*s));
            return out;
        });
    }
    result<std::vector<session_record>> list(std::string_view user_id, std::string_view client_id,
                                             std::string_view status, std::size_t limit, std::size_t offset,
                                             std::size_t* total) const noexcept override {
        return guarded([&]() -> result<std::vector<session_record>> {
            state const& s = *b_.s;
            auto keep = [&](session_record const& r) {
                return (user_id.empty() || r.user_id == user_id) && (client_id.empty() || r.client_id == client_id) &&
                       (status.empty() || r.status == status);
            };
            std::optional<std::vector<std::string>> ids;  // newest first
            if (!user_id.empty()) {
                ids = linked(user_id);
            } else if (!client_id.empty()) {
                if (auto c = find(s.clients, client_id)) {
                    ids = std::move(c->session_ids);
                    std::sort(ids->begin(), ids->end(), std::greater<>{});
                    ids->erase(std::unique(ids->begin(), ids->end()), ids->end());
                }
            }
            std::vector<session_record> out;
            if (ids) {
                for (auto const& id : *ids)
                    if (auto r = find(s.sessions, id); r && keep(*r)) out.push_back(std::move(*r));
            } else {
                for (auto it = s.sessions.rbegin(); it != s.sessions.rend(); ++it)
                    if (keep(it->second)) out.push_back(it->second);
            }
            if (total != nullptr) *total = out.size();
            return page(std::move(out), offset, limit);
        });
    }
    result<void> put(session_record const& r) noexcept override {
        return guarded([&]() -> result<void> {
            if (!storable(r.id)) return invalid_key();
            if (!r.user_id.empty()) {  // the link's key: user id, NUL, session id
                if (r.user_id.size() + 1 + r.id.size() > max_key_size) return invalid_key();
                b_.w->sessions_by_user.emplace(r.user_id, r.id);
            }
            b_.w->sessions.insert_or_assign(r.id, r);
            return {};
        });
    }

private:
    /// Ids of the sessions linked to the user, newest first.
    std::vector<std::string> linked(std::string_view user_id) const {
        std::vector<std::string> ids;
        for (auto const& [u, id] : b_.s->sessions_by_user)
            if (u == user_id) ids.push_back(id);
        std::reverse(ids.begin(), ids.end());
        return ids;
    }
};

class clients_impl final : public bound_repo<clients_repo, bound> {
public:
    using bound_repo::bound_repo;

    result<std::optional<client_record>> get(std::string_view id) const noexcept override {
        return guarded([&] { return lookup(b_.s->clients, id); });
    }
    result<std::vector<client_record>> list(std::size_t limit, std::size_t offset,
                                            std::size_t* total) const noexcept override {
        return guarded([&]() -> result<std::vector<client_record>> {
            auto const& all = b_.s->clients;
            if (total != nullptr) *total = all.size();
            std::vector<client_record> out;
            auto const [from, to] = page_of(all.size(), offset, limit);
            auto it = all.rbegin();
            std::advance(it, static_cast<std::ptrdiff_t>(from));
            for (std::size_t i = from; i < to; ++i, ++it) out.push_back(it->second);
            return out;
        });
    }
    result<void> put(client_record const& c) noexcept override {
        return guarded([&] { return put_at(b_.w->clients, c.id, c); });
    }
    result<void> remove(std::string_view id) noexcept override {
        return guarded([&] { return erase_at(b_.w->clients, id); });
    }
};

/// The state's table of a family found by id only.
template <class Record>
constexpr table<Record> state::*records_of() noexcept {
    if constexpr (std::is_same_v<Record, sign_in_record>) return &state::sign_ins;
    if constexpr (std::is_same_v<Record, sign_up_record>) return &state::sign_ups;
    if constexpr (std::is_same_v<Record, dev_browser_record>) return &state::dev_browsers;
    if constexpr (std::is_same_v<Record, image_record>) return &state::images;
}

/// A family found by id only: one table of records.
template <class Record>
class by_id_impl final : public by_id_repo<Record> {
public:
    explicit by_id_impl(bound const& b) noexcept : b_(b), t_(records_of<Record>()) {}

    result<std::optional<Record>> get(std::string_view id) const noexcept override {
        return guarded([&] { return lookup(b_.s->*t_, id); });
    }
    result<void> put(Record const& r) noexcept override {
        return guarded([&] { return put_at(b_.w->*t_, r.id, r); });
    }
    result<void> remove(std::string_view id) noexcept override {
        return guarded([&] { return erase_at(b_.w->*t_, id); });
    }

private:
    bound const& b_;
    table<Record> state::*t_;
};

class jwt_templates_impl final : public bound_repo<jwt_templates_repo, bound> {
public:
    using bound_repo::bound_repo;

    result<std::optional<jwt_template_record>> get(std::string_view id) const noexcept override {
        return guarded([&] { return lookup(b_.s->jwt_templates, id); });
    }
    result<std::optional<jwt_template_record>> by_name(std::string_view name) const noexcept override {
        return guarded([&] { return first_with(b_.s->jwt_templates, &jwt_template_record::name, name); });
    }
    result<std::vector<jwt_template_record>> list() const noexcept override {
        return guarded([&]() -> result<std::vector<jwt_template_record>> {
            std::vector<jwt_template_record> out;
            for (auto const& [id, j] : b_.s->jwt_templates) out.push_back(j);
            return out;
        });
    }
    result<void> put(jwt_template_record const& j, jwt_template_record const* previous,
                     unique_field* conflict) noexcept override {
        return guarded([&]() -> result<void> {
            auto taken = [&](unique_field f) -> result<void> {
                if (conflict != nullptr) *conflict = f;
                return make_error_code(errc::key_exists);
            };
            if (!storable(j.id) || !storable(j.name)) return invalid_key();
            auto& all = b_.w->jwt_templates;
            if (previous == nullptr && all.contains(j.id)) return taken(unique_field::none);
            for (auto const& [id, other] : all)
                if (id != j.id && other.name == j.name) return taken(unique_field::jwt_template_name);
            all.insert_or_assign(j.id, j);
            return {};
        });
    }
    result<void> remove(jwt_template_record const& j) noexcept override {
        return guarded([&]() -> result<void> {
            b_.w->jwt_templates.erase(j.id);
            return {};
        });
    }
};

class meta_impl final : public bound_repo<meta_repo, bound> {
public:
    using bound_repo::bound_repo;

    result<std::optional<std::string>> get(std::string_view key) const noexcept override {
        return guarded([&] { return lookup(b_.s->meta, key); });
    }
    result<void> put(std::string_view key, std::string_view value) noexcept override {
        return guarded([&] { return put_at(b_.w->meta, key, std::string(value)); });
    }
    result<void> remove(std::string_view key) noexcept override {
        return guarded([&] { return erase_at(b_.w->meta, key); });
    }
};

class jobs_impl final : public bound_repo<jobs_repo, bound> {
public:
    using bound_repo::bound_repo;

    result<std::optional<job_record>> get(std::string_view id) const noexcept override {
        return guarded([&] { return lookup(b_.s->jobs, id); });
    }
    result<std::vector<job_record>> due(std::int64_t now_ms, std::size_t max) const noexcept override {
        return guarded([&]() -> result<std::vector<job_record>> {
            std::vector<job_record> out;
            for (auto const& [id, j] : b_.s->jobs)
                if (j.state == "pending" && j.next_attempt_at <= now_ms) out.push_back(j);
            std::stable_sort(out.begin(), out.end(), [](job_record const& a, job_record const& b) {
                return std::max<std::int64_t>(0, a.next_attempt_at) < std::max<std::int64_t>(0, b.next_attempt_at);
            });
            if (out.size() > max) out.resize(max);
            return out;
        });
    }
    result<std::optional<std::int64_t>> next_due() const noexcept override {
        std::optional<std::int64_t> at;
        for (auto const& [id, j] : b_.s->jobs)
            if (j.state == "pending") {
                auto const t = std::max<std::int64_t>(0, j.next_attempt_at);
                if (!at || t < *at) at = t;
            }
        return at;
    }
    result<std::vector<job_record>> list(std::size_t limit) const noexcept override {
        return guarded([&]() -> result<std::vector<job_record>> {
            std::vector<job_record> out;
            for (auto const& [id, j] : b_.s->jobs) {
                if (out.size() >= limit) break;
                out.push_back(j);
            }
            return out;
        });
    }
    result<queue_counts> counts() const noexcept override {
        queue_counts c;
        for (auto const& [id, j] : b_.s->jobs) (j.state == "pending" ? c.pending : c.dead) += 1;
        return c;
    }
    result<void> put(job_record const& j, bool insert) noexcept override {
        return guarded([&]() -> result<void> {
            if (j.id.empty() || j.id.size() + 8 > max_key_size) return invalid_key();
            if (insert && b_.w->jobs.contains(j.id)) return make_error_code(errc::key_exists);
            b_.w->jobs.insert_or_assign(j.id, j);
            return {};
        });
    }
    result<void> remove(std::string_view id) noexcept override {
        return guarded([&] { return erase_at(b_.w->jobs, id); });
    }
};

class waitlist_impl final : public bound_repo<waitlist_repo, bound> {
public:
    using bound_repo::bound_repo;

    result<std::optional<waitlist_entry_record>> get(std::string_view id) const noexcept override {
        return guarded([&] { return lookup(b_.s->waitlist, id); });
    }
    result<std::optional<waitlist_entry_record>> by_email(std::string_view email) const noexcept override {
        return guarded([&] { return first_with(b_.s->waitlist, &waitlist_entry_record::email_address, email); });
    }
    result<std::vector<waitlist_entry_record>> list(waitlist_filter const& f,
                                                    std::size_t* total) const noexcept override {
        return guarded([&]() -> result<std::vector<waitlist_entry_record>> {
            std::vector<waitlist_entry_record> all;
            for (auto const& [id, r] : b_.s->waitlist)
                if (matches(r, f)) all.push_back(r);
            return select(std::move(all), f, total);
        });
    }
    result<std::size_t> count() const noexcept override { return b_.s->waitlist.size(); }
    result<void> put(waitlist_entry_record const& r, bool insert) noexcept override {
        return guarded([&]() -> result<void> {
            if (!storable(r.id) || !storable(r.email_address)) return invalid_key();
            if (insert) {
                if (b_.w->waitlist.contains(r.id)) return make_error_code(errc::key_exists);
                for (auto const& [id, e] : b_.w->waitlist)
                    if (e.email_address == r.email_address) return make_error_code(errc::key_exists);
            }
            b_.w->waitlist.insert_or_assign(r.id, r);
            return {};
        });
    }
    result<void> remove(waitlist_entry_record const& r) noexcept override {
        return guarded([&] { return erase_at(b_.w->waitlist, r.id); });
    }
};

/// The state's table of a key-value family.
table<std::string> state::*kv_of(kv_table which) noexcept {
    switch (which) {
        case kv_table::organizations:
            return &state::organizations;
        case kv_table::tickets:
            return &state::tickets;
        case kv_table::oauth:
            return &state::oauth;
        case kv_table::console:
            return &state::console;
    }
    return &state::organizations;
}

/// A key-value family's table (the family's own header keeps the keys and rules).
class org_kv_impl final : public org_kv {
public:
    org_kv_impl(bound const& b, kv_table which) noexcept : b_(b), t_(kv_of(which)) {}
    result<std::optional<std::string>> get(std::string_view key) const noexcept override {
        return guarded([&] { return lookup((b_.s->*t_), key); });
    }
    result<void> scan(std::string_view prefix,
                      std::function<bool(std::string_view, std::string_view)> const& f) const noexcept override {
        return guarded([&]() -> result<void> {
            auto const& t = (b_.s->*t_);
            for (auto it = t.lower_bound(prefix); it != t.end() && it->first.starts_with(prefix); ++it)
                if (!f(it->first, it->second)) break;
            return {};
        });
    }
    result<void> put(std::string_view key, std::string_view value, bool unique) noexcept override {
        return guarded([&]() -> result<void> {
            if (!storable(key)) return invalid_key();
            auto& t = (b_.w->*t_);
            if (unique && t.contains(key)) return make_error_code(errc::key_exists);
            t.insert_or_assign(std::string(key), std::string(value));
            return {};
        });
    }
    result<void> del(std::string_view key) noexcept override {
        return guarded([&] { return erase_at((b_.w->*t_), key); });
    }

private:
    bound const& b_;
    table<std::string> state::*t_;
};

/// Every repository of one txn (store/repositories.hpp).
using repositories = store::repositories<bound, users_impl, sessions_impl, clients_impl, by_id_impl, jwt_templates_impl,
                                         meta_impl, jobs_impl, waitlist_impl, org_kv_impl>;

/// One snapshot (or a write txn's own state) seen through the seam.
class txn_view final : public store::txn_of<repositories> {
public:
    txn_view(state const* s, state* w, std::uint64_t version) noexcept : txn_of(s, w), version_(version) {}

    std::uint64_t version() const noexcept override { return version_; }

private:
    std::uint64_t version_;
};

}  // namespace

db::db() : head_(std::make_shared<state const>()) {}
db::~db() = default;

std::shared_ptr<state const> db::snapshot(std::uint64_t& version) const {
    std::lock_guard lock(mu_);
    version = version_;
    return head_;
}

std::uint64_t db::version() const noexcept {
    std::lock_guard lock(mu_);
    return version_;
}

result<void> db::run_read(function_ref<result<void>(store::read_txn&)> body) const {
    std::uint64_t version = 0;
    auto const s = snapshot(version);
    txn_view view(s.get(), nullptr, version);
    return body(view);
}

result<void> db::run_write(function_ref<result<void>(store::write_txn&)> body) {
    std::lock_guard one_writer(writer_);
    std::uint64_t version = 0;
    auto next = std::make_shared<state>(*snapshot(version));  // the txn's own copy: aborting drops it
    txn_view view(next.get(), next.get(), version + 1);
    if (auto r = body(view); !r) return r;
    {
        std::lock_guard lock(mu_);
        head_ = std::move(next);
        version_ = version + 1;
    }
    view.committed();
    return {};
}

}  // namespace latchkey::store::memory
