#include "store/db.hpp"

#include "store/codec.hpp"

#include <algorithm>
#include <cctype>
#include <set>

namespace latchkey::store {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

template <class T>
result<std::optional<T>> get_record(txn const& t, MDB_dbi dbi, std::string_view key) noexcept {
    auto v = t.get(dbi, key);
    if (!v) return v.error();
    if (!*v) return std::optional<T>{};
    auto r = decode<T>(**v);
    if (!r) return r.error();
    return std::optional<T>{std::move(*r)};
}

result<std::optional<std::string>> get_string(txn const& t, MDB_dbi dbi, std::string_view key) noexcept {
    auto v = t.get(dbi, key);
    if (!v) return v.error();
    if (!*v) return std::optional<std::string>{};
    return std::optional<std::string>{std::string(**v)};
}

/// Every unique key a user holds, by index.
struct user_keys {
    std::vector<std::string> emails, phones, idns;
    std::string username, external_id;
};

user_keys keys_of(user_record const& u) {
    user_keys k;
    for (auto const& i : u.identifications) {
        if (i.kind == "email_address") k.emails.push_back(lower(i.value));
        else if (i.kind == "phone_number") k.phones.push_back(i.value);
        k.idns.push_back(i.id);
    }
    if (!u.username.empty()) k.username = lower(u.username);
    k.external_id = u.external_id;
    return k;
}

bool contains(std::vector<std::string> const& v, std::string const& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

std::string user_session_key(std::string_view user_id, std::string_view session_id) {
    std::string k(user_id);
    k.push_back('\0');
    k.append(session_id);
    return k;
}

bool icontains(std::string_view hay, std::string const& needle_lower) {
    if (needle_lower.empty()) return true;
    return lower(hay).find(needle_lower) != std::string::npos;
}

}  // namespace

result<db> db::open(options const& o) noexcept {
    db d;
    if (auto r = d.env_.open(o.dir, o.map_size, 32, o.durable, o.max_readers); !r) return r.error();
    auto w = write_txn::begin(d.env_);
    if (!w) return w.error();
    struct named {
        MDB_dbi* dbi;
        char const* name;
    };
    auto& t = d.t_;
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
                         {&t.jwt_templates_by_name, "jwt_templates_by_name"}};
    for (auto const& n : all) {
        auto r = w->open_dbi(n.name);
        if (!r) return r.error();
        *n.dbi = *r;
    }
    if (auto c = std::move(*w).commit(); !c) return c.error();
    return d;
}

result<void> db::sync() noexcept {
    if (int rc = ::mdb_env_sync(env_.get(), 1); rc != 0) return lmdb_error(rc, "mdb_env_sync");
    return {};
}

// ---- users ----

result<void> db::put_user(write_txn& w, user_record const& u, user_record const* previous,
                          unique_field* conflict) const noexcept {
    try {
        auto now = keys_of(u);
        user_keys before;
        if (previous != nullptr) before = keys_of(*previous);
        auto check = [&](MDB_dbi dbi, std::string const& key, unique_field f) -> result<bool> {
            auto v = w.get(dbi, key);
            if (!v) return result<bool>(boost::system::in_place_error, v.error());
            if (*v && **v != u.id) {
                if (conflict != nullptr) *conflict = f;
                return false;
            }
            return true;
        };
        // Check every new unique key before writing anything.
        for (auto const& e : now.emails) {
            auto ok = check(t_.users_by_email, e, unique_field::email_address);
            if (!ok) return ok.error();
            if (!*ok) return make_error_code(errc::key_exists);
        }
        for (auto const& p : now.phones) {
            auto ok = check(t_.users_by_phone, p, unique_field::phone_number);
            if (!ok) return ok.error();
            if (!*ok) return make_error_code(errc::key_exists);
        }
        if (!now.username.empty()) {
            auto ok = check(t_.users_by_username, now.username, unique_field::username);
            if (!ok) return ok.error();
            if (!*ok) return make_error_code(errc::key_exists);
        }
        if (!now.external_id.empty()) {
            auto ok = check(t_.users_by_external_id, now.external_id, unique_field::external_id);
            if (!ok) return ok.error();
            if (!*ok) return make_error_code(errc::key_exists);
        }
        // Duplicates within the record itself.
        std::set<std::string> seen_e(now.emails.begin(), now.emails.end());
        if (seen_e.size() != now.emails.size()) {
            if (conflict != nullptr) *conflict = unique_field::email_address;
            return make_error_code(errc::key_exists);
        }
        std::set<std::string> seen_p(now.phones.begin(), now.phones.end());
        if (seen_p.size() != now.phones.size()) {
            if (conflict != nullptr) *conflict = unique_field::phone_number;
            return make_error_code(errc::key_exists);
        }
        // Drop index keys the user no longer holds.
        for (auto const& e : before.emails)
            if (!contains(now.emails, e))
                if (auto r = w.del(t_.users_by_email, e); !r) return r;
        for (auto const& p : before.phones)
            if (!contains(now.phones, p))
                if (auto r = w.del(t_.users_by_phone, p); !r) return r;
        for (auto const& i : before.idns)
            if (!contains(now.idns, i))
                if (auto r = w.del(t_.users_by_identification, i); !r) return r;
        if (!before.username.empty() && before.username != now.username)
            if (auto r = w.del(t_.users_by_username, before.username); !r) return r;
        if (!before.external_id.empty() && before.external_id != now.external_id)
            if (auto r = w.del(t_.users_by_external_id, before.external_id); !r) return r;
        // Write the new ones and the record.
        for (auto const& e : now.emails)
            if (auto r = w.put(t_.users_by_email, e, u.id); !r) return r;
        for (auto const& p : now.phones)
            if (auto r = w.put(t_.users_by_phone, p, u.id); !r) return r;
        for (auto const& i : now.idns)
            if (auto r = w.put(t_.users_by_identification, i, u.id); !r) return r;
        if (!now.username.empty())
            if (auto r = w.put(t_.users_by_username, now.username, u.id); !r) return r;
        if (!now.external_id.empty())
            if (auto r = w.put(t_.users_by_external_id, now.external_id, u.id); !r) return r;
        return w.put(t_.users, u.id, encode(u));
    } catch (std::bad_alloc const&) {
        return make_error_code(errc::lmdb);
    }
}

result<void> db::delete_user(write_txn& w, user_record const& u) const noexcept {
    try {
        auto k = keys_of(u);
        for (auto const& e : k.emails)
            if (auto r = w.del(t_.users_by_email, e); !r) return r;
        for (auto const& p : k.phones)
            if (auto r = w.del(t_.users_by_phone, p); !r) return r;
        for (auto const& i : k.idns)
            if (auto r = w.del(t_.users_by_identification, i); !r) return r;
        if (!k.username.empty())
            if (auto r = w.del(t_.users_by_username, k.username); !r) return r;
        if (!k.external_id.empty())
            if (auto r = w.del(t_.users_by_external_id, k.external_id); !r) return r;
        // The user's session index entries (sessions themselves stay, already ended by the caller).
        std::vector<std::string> keys;
        {
            cursor c(w, t_.sessions_by_user);
            std::string prefix = user_session_key(u.id, "");
            for (auto e = c.seek(prefix); e && e->first.starts_with(prefix); e = c.next()) keys.emplace_back(e->first);
        }
        for (auto const& key : keys)
            if (auto r = w.del(t_.sessions_by_user, key); !r) return r;
        return w.del(t_.users, u.id);
    } catch (std::bad_alloc const&) {
        return make_error_code(errc::lmdb);
    }
}

result<std::optional<user_record>> db::get_user(txn const& t, std::string_view id) const noexcept {
    return get_record<user_record>(t, t_.users, id);
}

result<std::optional<std::string>> db::user_id_by_email(txn const& t, std::string_view normalized) const noexcept {
    return get_string(t, t_.users_by_email, lower(normalized));
}

result<std::optional<std::string>> db::user_id_by_phone(txn const& t, std::string_view e164) const noexcept {
    return get_string(t, t_.users_by_phone, e164);
}

result<std::optional<std::string>> db::user_id_by_username(txn const& t, std::string_view name) const noexcept {
    return get_string(t, t_.users_by_username, lower(name));
}

result<std::optional<std::string>> db::user_id_by_external_id(txn const& t, std::string_view v) const noexcept {
    return get_string(t, t_.users_by_external_id, v);
}

result<std::optional<std::string>> db::user_id_by_identification(txn const& t, std::string_view idn) const noexcept {
    return get_string(t, t_.users_by_identification, idn);
}

namespace {

bool matches_query(user_record const& u, std::string const& q) {
    if (q.empty()) return true;
    if (icontains(u.id, q) || icontains(u.username, q) || icontains(u.first_name, q) || icontains(u.last_name, q) ||
        icontains(u.external_id, q))
        return true;
    for (auto const& i : u.identifications)
        if (icontains(i.value, q)) return true;
    return false;
}

std::string primary_email(user_record const& u) {
    for (auto const& i : u.identifications)
        if (i.id == u.primary_email_address_id) return i.value;
    return {};
}

}  // namespace

result<std::vector<user_record>> db::list_users(txn const& t, user_filter const& f) const noexcept {
    try {
        std::string const q = lower(f.query);
        bool const has_ids = !f.email_addresses.empty() || !f.phone_numbers.empty() || !f.usernames.empty() ||
                             !f.user_ids.empty() || !f.external_ids.empty();
        std::string order = f.order_by.empty() ? "-created_at" : f.order_by;
        bool desc = true;
        if (order.front() == '-' || order.front() == '+') {
            desc = order.front() == '-';
            order.erase(0, 1);
        }
        std::vector<user_record> out;
        if (!has_ids && q.empty() && order == "created_at") {
            // Fast path: ids are time-ordered, so the table order is creation order.
            cursor c(t, t_.users);
            std::size_t skipped = 0;
            for (auto e = desc ? c.last() : c.first(); e && out.size() < f.limit; e = desc ? c.prev() : c.next()) {
                if (skipped < f.offset) {
                    ++skipped;
                    continue;
                }
                auto u = decode<user_record>(e->second);
                if (!u) return u.error();
                out.push_back(std::move(*u));
            }
            return out;
        }
        std::vector<user_record> all;
        if (has_ids) {
            // Each given list ORs within itself; the lists AND together.
            std::optional<std::set<std::string>> ids;
            auto intersect = [&](std::set<std::string> s) {
                if (!ids) {
                    ids = std::move(s);
                    return;
                }
                std::set<std::string> x;
                for (auto const& i : *ids)
                    if (s.count(i) != 0) x.insert(i);
                ids = std::move(x);
            };
            auto resolve = [&](std::vector<std::string> const& vals, MDB_dbi dbi, bool lowercase) -> result<void> {
                if (vals.empty()) return {};
                std::set<std::string> s;
                for (auto const& v : vals) {
                    auto id = get_string(t, dbi, lowercase ? lower(v) : v);
                    if (!id) return id.error();
                    if (*id) s.insert(**id);
                }
                intersect(std::move(s));
                return {};
            };
            if (auto r = resolve(f.email_addresses, t_.users_by_email, true); !r) return r.error();
            if (auto r = resolve(f.phone_numbers, t_.users_by_phone, false); !r) return r.error();
            if (auto r = resolve(f.usernames, t_.users_by_username, true); !r) return r.error();
            if (auto r = resolve(f.external_ids, t_.users_by_external_id, false); !r) return r.error();
            if (!f.user_ids.empty()) intersect(std::set<std::string>(f.user_ids.begin(), f.user_ids.end()));
            for (auto const& id : *ids) {
                auto u = get_user(t, id);
                if (!u) return u.error();
                if (*u && matches_query(**u, q)) all.push_back(std::move(**u));
            }
        } else {
            cursor c(t, t_.users);
            for (auto e = c.first(); e; e = c.next()) {
                auto u = decode<user_record>(e->second);
                if (!u) return u.error();
                if (matches_query(*u, q)) all.push_back(std::move(*u));
            }
        }
        auto key_less = [&](user_record const& a, user_record const& b) {
            auto cmp = [&](auto const& x, auto const& y) { return desc ? y < x : x < y; };
            if (order == "updated_at") return a.updated_at != b.updated_at ? cmp(a.updated_at, b.updated_at) : cmp(a.id, b.id);
            if (order == "last_sign_in_at")
                return a.last_sign_in_at != b.last_sign_in_at ? cmp(a.last_sign_in_at, b.last_sign_in_at) : cmp(a.id, b.id);
            if (order == "email_address") return cmp(primary_email(a), primary_email(b));
            if (order == "username") return cmp(lower(a.username), lower(b.username));
            if (order == "first_name") return cmp(lower(a.first_name), lower(b.first_name));
            if (order == "last_name") return cmp(lower(a.last_name), lower(b.last_name));
            return a.created_at != b.created_at ? cmp(a.created_at, b.created_at) : cmp(a.id, b.id);
        };
        std::stable_sort(all.begin(), all.end(), key_less);
        for (std::size_t i = f.offset; i < all.size() && out.size() < f.limit; ++i) out.push_back(std::move(all[i]));
        return out;
    } catch (std::bad_alloc const&) {
        return make_error_code(errc::lmdb);
    }
}

result<std::size_t> db::count_users(txn const& t, user_filter const& f) const noexcept {
    bool const plain = f.email_addresses.empty() && f.phone_numbers.empty() && f.usernames.empty() &&
                       f.user_ids.empty() && f.external_ids.empty() && f.query.empty();
    if (plain) {
        MDB_stat st{};
        if (int rc = ::mdb_stat(t.handle(), t_.users, &st); rc != 0) return lmdb_error(rc, "mdb_stat");
        return static_cast<std::size_t>(st.ms_entries);
    }
    user_filter all = f;
    all.offset = 0;
    all.limit = static_cast<std::size_t>(-1);
    auto r = list_users(t, all);
    if (!r) return r.error();
    return r->size();
}

// ---- sessions ----

result<void> db::put_session(write_txn& w, session_record const& s) const noexcept {
    try {
        if (auto r = w.put(t_.sessions_by_user, user_session_key(s.user_id, s.id), ""); !r) return r;
        return w.put(t_.sessions, s.id, encode(s));
    } catch (std::bad_alloc const&) {
        return make_error_code(errc::lmdb);
    }
}

result<std::optional<session_record>> db::get_session(txn const& t, std::string_view id) const noexcept {
    return get_record<session_record>(t, t_.sessions, id);
}

result<std::vector<session_record>> db::sessions_of_user(txn const& t, std::string_view user_id) const noexcept {
    try {
        std::vector<std::string> ids;
        {
            cursor c(t, t_.sessions_by_user);
            std::string prefix = user_session_key(user_id, "");
            for (auto e = c.seek(prefix); e && e->first.starts_with(prefix); e = c.next())
                ids.emplace_back(e->first.substr(prefix.size()));
        }
        std::vector<session_record> out;
        for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
            auto s = get_session(t, *it);
            if (!s) return s.error();
            if (*s) out.push_back(std::move(**s));
        }
        return out;
    } catch (std::bad_alloc const&) {
        return make_error_code(errc::lmdb);
    }
}

result<std::vector<session_record>> db::list_sessions(txn const& t, std::string_view user_id,
                                                      std::string_view client_id, std::string_view status,
                                                      std::size_t limit, std::size_t offset,
                                                      std::size_t* total) const noexcept {
    try {
        std::vector<session_record> all;
        if (!user_id.empty()) {
            auto r = sessions_of_user(t, user_id);
            if (!r) return r.error();
            all = std::move(*r);
        } else if (!client_id.empty()) {
            auto c = get_client(t, client_id);
            if (!c) return c.error();
            if (*c)
                for (auto it = (*c)->session_ids.rbegin(); it != (*c)->session_ids.rend(); ++it) {
                    auto s = get_session(t, *it);
                    if (!s) return s.error();
                    if (*s) all.push_back(std::move(**s));
                }
        } else {
            cursor c(t, t_.sessions);
            for (auto e = c.last(); e; e = c.prev()) {
                auto s = decode<session_record>(e->second);
                if (!s) return s.error();
                all.push_back(std::move(*s));
            }
        }
        std::vector<session_record> filtered;
        for (auto& s : all) {
            if (!client_id.empty() && s.client_id != client_id) continue;
            if (!user_id.empty() && s.user_id != user_id) continue;
            if (!status.empty() && s.status != status) continue;
            filtered.push_back(std::move(s));
        }
        if (total != nullptr) *total = filtered.size();
        std::vector<session_record> out;
        for (std::size_t i = offset; i < filtered.size() && out.size() < limit; ++i) out.push_back(std::move(filtered[i]));
        return out;
    } catch (std::bad_alloc const&) {
        return make_error_code(errc::lmdb);
    }
}

// ---- clients ----

result<void> db::put_client(write_txn& w, client_record const& c) const noexcept {
    try {
        return w.put(t_.clients, c.id, encode(c));
    } catch (std::bad_alloc const&) {
        return make_error_code(errc::lmdb);
    }
}

result<void> db::delete_client(write_txn& w, std::string_view id) const noexcept { return w.del(t_.clients, id); }

result<std::optional<client_record>> db::get_client(txn const& t, std::string_view id) const noexcept {
    return get_record<client_record>(t, t_.clients, id);
}

result<std::vector<client_record>> db::list_clients(txn const& t, std::size_t limit, std::size_t offset,
                                                    std::size_t* total) const noexcept {
    try {
        if (total != nullptr) {
            MDB_stat st{};
            if (int rc = ::mdb_stat(t.handle(), t_.clients, &st); rc != 0) return lmdb_error(rc, "mdb_stat");
            *total = static_cast<std::size_t>(st.ms_entries);
        }
        std::vector<client_record> out;
        cursor c(t, t_.clients);
        std::size_t skipped = 0;
        for (auto e = c.last(); e && out.size() < limit; e = c.prev()) {
            if (skipped++ < offset) continue;
            auto r = decode<client_record>(e->second);
            if (!r) return r.error();
            out.push_back(std::move(*r));
        }
        return out;
    } catch (std::bad_alloc const&) {
        return make_error_code(errc::lmdb);
    }
}

// ---- sign-ins / sign-ups / dev browsers ----

result<void> db::put_sign_in(write_txn& w, sign_in_record const& s) const noexcept {
    try {
        return w.put(t_.sign_ins, s.id, encode(s));
    } catch (std::bad_alloc const&) {
        return make_error_code(errc::lmdb);
    }
}

result<std::optional<sign_in_record>> db::get_sign_in(txn const& t, std::string_view id) const noexcept {
    return get_record<sign_in_record>(t, t_.sign_ins, id);
}

result<void> db::put_sign_up(write_txn& w, sign_up_record const& s) const noexcept {
    try {
        return w.put(t_.sign_ups, s.id, encode(s));
    } catch (std::bad_alloc const&) {
        return make_error_code(errc::lmdb);
    }
}

result<std::optional<sign_up_record>> db::get_sign_up(txn const& t, std::string_view id) const noexcept {
    return get_record<sign_up_record>(t, t_.sign_ups, id);
}

result<void> db::put_dev_browser(write_txn& w, dev_browser_record const& d) const noexcept {
    try {
        return w.put(t_.dev_browsers, d.id, encode(d));
    } catch (std::bad_alloc const&) {
        return make_error_code(errc::lmdb);
    }
}

result<std::optional<dev_browser_record>> db::get_dev_browser(txn const& t, std::string_view id) const noexcept {
    if (id.empty() || id.size() > 128) return std::optional<dev_browser_record>{};
    return get_record<dev_browser_record>(t, t_.dev_browsers, id);
}

// ---- JWT templates ----

result<void> db::put_jwt_template(write_txn& w, jwt_template_record const& j,
                                  jwt_template_record const* previous) const noexcept {
    try {
        auto holder = w.get(t_.jwt_templates_by_name, j.name);
        if (!holder) return holder.error();
        if (*holder && **holder != j.id) return make_error_code(errc::key_exists);
        if (previous != nullptr && previous->name != j.name)
            if (auto r = w.del(t_.jwt_templates_by_name, previous->name); !r) return r;
        if (auto r = w.put(t_.jwt_templates_by_name, j.name, j.id); !r) return r;
        return w.put(t_.jwt_templates, j.id, encode(j));
    } catch (std::bad_alloc const&) {
        return make_error_code(errc::lmdb);
    }
}

result<void> db::delete_jwt_template(write_txn& w, jwt_template_record const& j) const noexcept {
    if (auto r = w.del(t_.jwt_templates_by_name, j.name); !r) return r;
    return w.del(t_.jwt_templates, j.id);
}

result<std::optional<jwt_template_record>> db::get_jwt_template(txn const& t, std::string_view id) const noexcept {
    return get_record<jwt_template_record>(t, t_.jwt_templates, id);
}

result<std::optional<jwt_template_record>> db::jwt_template_by_name(txn const& t, std::string_view name) const noexcept {
    auto id = get_string(t, t_.jwt_templates_by_name, name);
    if (!id) return id.error();
    if (!*id) return std::optional<jwt_template_record>{};
    return get_jwt_template(t, **id);
}

result<std::vector<jwt_template_record>> db::list_jwt_templates(txn const& t) const noexcept {
    try {
        std::vector<jwt_template_record> out;
        cursor c(t, t_.jwt_templates);
        for (auto e = c.first(); e; e = c.next()) {
            auto r = decode<jwt_template_record>(e->second);
            if (!r) return r.error();
            out.push_back(std::move(*r));
        }
        return out;
    } catch (std::bad_alloc const&) {
        return make_error_code(errc::lmdb);
    }
}

// ---- meta ----

result<void> db::put_meta(write_txn& w, std::string_view key, std::string_view value) const noexcept {
    return w.put(t_.meta, key, value);
}

result<std::optional<std::string>> db::get_meta(txn const& t, std::string_view key) const noexcept {
    return get_string(t, t_.meta, key);
}

result<void> db::delete_meta(write_txn& w, std::string_view key) const noexcept { return w.del(t_.meta, key); }

}  // namespace latchkey::store
