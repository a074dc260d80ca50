// BAPI users: list/count with filters, create (passwords or imported digests), get, update, delete,
// ban, lock, metadata merge, password verification and removal.
#include "crypto/password.hpp"
#include "crypto/random.hpp"
#include "server/api/backend/common.hpp"
#include "server/api/backend/handlers.hpp"
#include "server/api/domain/identifiers.hpp"
#include "server/api/domain/metadata.hpp"
#include "server/api/domain/sessions.hpp"
#include "server/api/events.hpp"
#include "server/api/federation/accounts.hpp"
#include "server/api/images/images.hpp"
#include "server/api/organizations/orgs.hpp"
#include "server/api/txn.hpp"
#include "server/api/views.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>

namespace latchkey::server::api::backend {

namespace json = boost::json;

namespace {

std::string_view unique_param(store::unique_field f) {
    auto const name = store::param_name(f);
    return name.empty() ? std::string_view("identifier") : name;
}

api_result<store::user_filter> read_filter(request_ctx const& ctx, bool with_paging) {
    store::user_filter f;
    f.email_addresses = ctx.query.all("email_address", true);
    for (auto& e : f.email_addresses)
        for (auto& ch : e) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    f.phone_numbers = ctx.query.all("phone_number", true);
    for (auto& p : f.phone_numbers)
        if (auto n = domain::normalize_phone(p)) p = *n;
    f.usernames = ctx.query.all("username", true);
    f.user_ids = ctx.query.all("user_id", true);
    f.external_ids = ctx.query.all("external_id", true);
    // `query`: a prefix of any identifier or name (store::user_filter::search, issue 23): answered from the index.
    if (auto const* q = ctx.query.find("query")) f.search = *q;
    if (auto const* o = ctx.query.find("order_by"); o != nullptr && !o->empty()) {
        std::string_view field = *o;
        // No sign means '+' (Clerk's docs); an unencoded '+' arrives as a space
        // ("?order_by=+created_at").
        char sign = '+';
        if (field.front() == '+' || field.front() == '-' || field.front() == ' ') {
            sign = field.front() == '-' ? '-' : '+';
            field.remove_prefix(1);
        }
        static constexpr std::string_view allowed[] = {"created_at", "updated_at", "email_address",  "username",
                                                       "first_name", "last_name",  "last_sign_in_at"};
        bool ok = false;
        for (auto x : allowed) ok = ok || x == field;
        if (!ok) return param_error(code::form_param_value_invalid, "order_by");
        f.order_by = sign + std::string(field);
    }
    if (with_paging) {
        auto p = paging(ctx);
        if (!p) return p.error();
        f.limit = p->first;
        f.offset = p->second;
    }
    return f;
}

/// Ends every live session of a user (ban, delete, password change with sign-out).
store::result<void> revoke_sessions(app& a, store::write_txn& w, std::string_view user_id, std::int64_t now,
                                    std::string_view status = "revoked") {
    if (auto e = domain::end_user_sessions(a, w, user_id, now, status); !e) return e.error();
    return {};
}

/// Reads password / password_digest+password_hasher into the user's digest.
std::optional<api_error> apply_password(app& a, request_ctx const& ctx, store::user_record& u) {
    auto pw = body_string(ctx, "password", 256);
    if (!pw) return pw.error();
    auto digest = body_string(ctx, "password_digest", 1024);
    if (!digest) return digest.error();
    auto hasher = body_string(ctx, "password_hasher", 64);
    if (!hasher) return hasher.error();
    auto skip = body_bool(ctx, "skip_password_checks");
    if (!skip) return skip.error();
    if (*digest) {
        std::string h = hasher->value_or("");
        if (h.empty()) return param_error(code::form_param_missing, "password_hasher");
        if (!crypto::is_supported_hasher(h))
            return param_error(code::form_param_value_invalid, "password_hasher",
                               "Unsupported password_hasher '" + h + "'.");
        if (!crypto::digest_matches_hasher(**digest, h))
            return param_error(code::form_param_format_invalid, "password_digest",
                               "password_digest is not a valid " + h + " digest.");
        // Keep the hasher with the digest when it cannot be told from the digest itself.
        u.password_digest = crypto::detect_hasher(**digest) == h ? **digest : h + "$$" + **digest;
        u.password_last_updated_at = ctx.now;
        return std::nullopt;
    }
    if (*pw) {
        if (!skip->value_or(false)) {
            if (auto bad = domain::check_password_policy(a, **pw)) return bad;
        } else if (pw->value().empty()) {
            return param_error(code::form_param_value_invalid, "password");
        }
        auto h = crypto::hash_password(**pw);
        if (!h) return make_error(code::internal_clerk_error);
        u.password_digest = std::move(*h);
        u.password_last_updated_at = ctx.now;
    }
    return std::nullopt;
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    std::int64_t const era = (y >= 0 ? y : y - 399) / 400;
    auto const yoe = static_cast<unsigned>(y - era * 400);
    unsigned const doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned const doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

/// RFC 3339 date-time ("2012-10-20T07:15:20.902Z", "2012-10-20T09:15:20+02:00") -> ms since the
/// epoch.
std::optional<std::int64_t> parse_rfc3339(std::string_view t) {
    auto digits = [&](std::size_t pos, std::size_t n) -> std::optional<int> {
        if (pos + n > t.size()) return std::nullopt;
        int v = 0;
        for (std::size_t i = pos; i < pos + n; ++i) {
            if (t[i] < '0' || t[i] > '9') return std::nullopt;
            v = v * 10 + (t[i] - '0');
        }
        return v;
    };
    auto year = digits(0, 4), month = digits(5, 2), day = digits(8, 2);
    auto hour = digits(11, 2), minute = digits(14, 2), second = digits(17, 2);
    if (!year || !month || !day || !hour || !minute || !second || t.size() < 20 || t[4] != '-' || t[7] != '-' ||
        (t[10] != 'T' && t[10] != 't' && t[10] != ' ') || t[13] != ':' || t[16] != ':')
        return std::nullopt;
    static constexpr int month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (*month < 1 || *month > 12 || *day < 1 || *day > month_days[*month - 1] || *hour > 23 || *minute > 59 ||
        *second > 60)
        return std::nullopt;
    std::size_t pos = 19;
    std::int64_t ms = 0;
    if (t[pos] == '.') {
        std::size_t n = 0;
        for (++pos; pos < t.size() && t[pos] >= '0' && t[pos] <= '9'; ++pos, ++n)
            if (n < 3) ms = ms * 10 + (t[pos] - '0');
        if (n == 0) return std::nullopt;
        for (; n < 3; ++n) ms *= 10;
    }
    std::int64_t offset_s = 0;
    if (pos < t.size() && (t[pos] == 'Z' || t[pos] == 'z')) {
        ++pos;
    } else if (pos < t.size() && (t[pos] == '+' || t[pos] == '-')) {
        auto oh = digits(pos + 1, 2), om = digits(pos + 4, 2);
        if (!oh || !om || t.size() < pos + 6 || t[pos + 3] != ':' || *oh > 23 || *om > 59) return std::nullopt;
        std::int64_t const offset = std::int64_t{*oh} * 3600 + std::int64_t{*om} * 60;
        offset_s = t[pos] == '+' ? offset : -offset;
        pos += 6;
    } else {
        return std::nullopt;
    }
    if (pos != t.size()) return std::nullopt;
    std::int64_t const secs =
        days_from_civil(*year, static_cast<unsigned>(*month), static_cast<unsigned>(*day)) * 86400 +
        std::int64_t{*hour} * 3600 + std::int64_t{*minute} * 60 + std::min(*second, 59) - offset_s;
    return secs * 1000 + ms;
}

/// Applies the profile fields shared by create and update.
std::optional<api_error> apply_profile(request_ctx const& ctx, store::user_record& u) {
    for (auto [key, target] : {std::pair<char const*, std::int64_t*>{"created_at", &u.created_at},
                               {"legal_accepted_at", &u.legal_accepted_at}}) {
        auto v = body_string(ctx, key, 64);
        if (!v) return v.error();
        if (!*v) continue;
        auto ms = parse_rfc3339(**v);
        if (!ms || *ms <= 0)
            return param_error(code::form_param_format_invalid, key,
                               std::string(key) + " must be an RFC 3339 date-time, e.g. 2012-10-20T07:15:20.902Z.");
        *target = *ms;
    }
    for (auto [key, target] : {std::pair<char const*, std::string*>{"first_name", &u.first_name},
                               {"last_name", &u.last_name},
                               {"external_id", &u.external_id}}) {
        auto v = body_string(ctx, key, 256);
        if (!v) return v.error();
        if (*v) *target = **v;
    }
    auto username = body_string(ctx, "username", 64);
    if (!username) return username.error();
    if (*username) {
        auto const& n = **username;
        if (!n.empty()) {
            if (n.size() < 4) return param_error(code::form_username_invalid_length, "username");
            for (char c : n)
                if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-')
                    return param_error(code::form_username_invalid_character, "username");
        }
        u.username = n;
    }
    for (auto [key, target] : {std::pair<char const*, std::string*>{"public_metadata", &u.public_metadata},
                               {"private_metadata", &u.private_metadata},
                               {"unsafe_metadata", &u.unsafe_metadata}}) {
        auto v = body_object(ctx, key);
        if (!v) return v.error();
        if (*v) *target = json::serialize(**v);
    }
    for (auto [key, target] : {std::pair<char const*, bool*>{"delete_self_enabled", &u.delete_self_enabled},
                               {"create_organization_enabled", &u.create_organization_enabled}}) {
        auto v = body_bool(ctx, key);
        if (!v) return v.error();
        if (*v) *target = **v;
    }
    return std::nullopt;
}

/// The BAPI user object as of `now_ms`: a lockout (BAPI or automatic) shows as the sign-in gate sees it, with
/// the time it has left.
json::object user_json(app const& a, store::user_record const& u, std::int64_t now_ms) {
    return views::user(u, views::audience::backend, views::lockout_of(u, now_ms, a.cfg.protection.max_attempts));
}

api_result<store::user_record> load_user(app& /*a*/, store::read_txn const& t, std::string_view id) {
    return found(t.users().get(id), "get_user");
}

/// The user named by the `user_id` path parameter, read in its own txn (404 if unknown).
api_result<store::user_record> read_user(app& a, request_ctx const& ctx) {
    return txn::read(a, "get_user", [&](store::read_txn& t) { return load_user(a, t, ctx.params.get("user_id")); });
}

/// Runs `change` on the user in a write txn and replies with the updated user.
template <class Change>
api_result<reply> modify(app& a, request_ctx& ctx, Change change) {
    store::user_record out;
    auto w = txn::write(a, "modify_user", txn::on_client_error::commit,
                        [&](store::write_txn& tx) -> store::result<api_result<void>> {
                            auto u = load_user(a, tx, ctx.params.get("user_id"));
                            if (!u) return api_result<void>(u.error());
                            store::user_record before = *u;
                            if (auto bad = change(tx, *u)) return api_result<void>(*bad);
                            u->updated_at = ctx.now;
                            store::unique_field conflict = store::unique_field::none;
                            if (auto r = tx.users().put(*u, &before, &conflict); !r) {
                                if (r.error() == store::make_error_code(store::errc::key_exists))
                                    return api_result<void>(store_error(r.error(), "put_user", unique_param(conflict)));
                                return r.error();
                            }
                            if (auto e = events::user_changed(a, tx, "user.updated", *u, &ctx); !e) return e.error();
                            out = std::move(*u);
                            return api_result<void>();
                        });
    if (!w) return w.error();
    return json_reply(user_json(a, out, ctx.now));
}

/// modify() for a change that cannot fail.
template <class Edit>
api_result<reply> edit_user(app& a, request_ctx& ctx, Edit edit) {
    return modify(a, ctx, [&](store::write_txn&, store::user_record& u) -> std::optional<api_error> {
        edit(u);
        return std::nullopt;
    });
}

/// Appends a verified (admin) identification of `kind` (also the param name) for each of `raws`, which
/// `normalize` must accept; longer than `max_len` is refused, `shown` chars of a bad one are quoted. The first
/// becomes `primary` when that is unset.
template <class Normalize>
std::optional<api_error> add_identifications(store::user_record& u, std::string const& kind,
                                             std::vector<std::string> const& raws, std::size_t max_len,
                                             std::size_t shown, std::string_view what, Normalize normalize,
                                             std::string& primary, std::int64_t now) {
    for (auto const& raw : raws) {
        if (raw.size() > max_len) return param_error(code::form_param_max_length_exceeded, kind);
        auto value = normalize(raw);
        if (!value)
            return param_error(code::form_param_format_invalid, kind,
                               "'" + raw.substr(0, shown) + "' is not a valid " + std::string(what) + ".");
        store::identification_record id;
        id.id = crypto::new_id("idn");
        id.kind = kind;
        id.value = *value;
        id.verification.status = "verified";
        id.verification.strategy = "admin";
        id.created_at = id.updated_at = now;
        if (primary.empty()) primary = id.id;
        u.identifications.push_back(std::move(id));
    }
    return std::nullopt;
}

/// PATCH (merge_patch: deep merge, see domain::merge_metadata) or PUT (replace) of the three metadata fields given.
api_result<reply> write_metadata(app& a, request_ctx& ctx, bool merge_patch) {
    std::optional<json::object> given[3];
    char const* keys[3] = {"public_metadata", "private_metadata", "unsafe_metadata"};
    for (int i = 0; i < 3; ++i) {
        auto v = body_object(ctx, keys[i]);
        if (!v) return v.error();
        given[i] = std::move(*v);
    }
    return modify(a, ctx, [&](store::write_txn&, store::user_record& u) -> std::optional<api_error> {
        std::string* targets[3] = {&u.public_metadata, &u.private_metadata, &u.unsafe_metadata};
        for (int i = 0; i < 3; ++i) {
            if (!given[i]) continue;
            if (!merge_patch) {
                *targets[i] = json::serialize(*given[i]);
                continue;
            }
            auto current = views::json_text(*targets[i]).as_object();
            domain::merge_metadata(current, *given[i]);
            std::string text = json::serialize(current);
            if (text.size() > 8192) return param_error(code::form_param_max_length_exceeded, keys[i]);
            *targets[i] = std::move(text);
        }
        return std::nullopt;
    });
}

}  // namespace

api_result<reply> list_users(app& a, request_ctx& ctx) {
    auto f = read_filter(ctx, true);
    if (!f) return f.error();
    auto users = txn::read(a, "list_users", [&](store::read_txn& t) -> store::result<std::vector<store::user_record>> {
        return t.users().list(*f);
    });
    if (!users) return users.error();
    json::array out;
    for (auto const& u : *users) out.push_back(user_json(a, u, ctx.now));
    return json_reply(out);
}

api_result<reply> count_users(app& a, request_ctx& ctx) {
    auto f = read_filter(ctx, false);
    if (!f) return f.error();
    auto n = txn::read(a, "count_users",
                       [&](store::read_txn& t) -> store::result<std::size_t> { return t.users().count(*f); });
    if (!n) return n.error();
    return json_reply(json::object{{"object", "total_count"}, {"total_count", *n}});
}

api_result<reply> create_user(app& a, request_ctx& ctx) {
    store::user_record u;
    u.id = crypto::new_id("user");
    u.created_at = u.updated_at = ctx.now;
    auto emails = body_strings(ctx, "email_address");
    if (!emails) return emails.error();
    auto phones = body_strings(ctx, "phone_number");
    if (!phones) return phones.error();
    if (auto bad = add_identifications(u, "email_address", emails->value_or(std::vector<std::string>{}), 320, 64,
                                       "email address", domain::normalize_email, u.primary_email_address_id, ctx.now))
        return *bad;
    if (auto bad = add_identifications(u, "phone_number", phones->value_or(std::vector<std::string>{}), 64, 32,
                                       "phone number", domain::normalize_phone, u.primary_phone_number_id, ctx.now))
        return *bad;
    if (auto bad = apply_profile(ctx, u)) return *bad;
    auto banned = body_bool(ctx, "banned");
    if (!banned) return banned.error();
    auto locked = body_bool(ctx, "locked");
    if (!locked) return locked.error();
    u.banned = banned->value_or(false);
    if (locked->value_or(false)) {
        u.locked = true;
        u.lockout_expires_at = ctx.now + a.cfg.protection.lockout.count() * 1000;
    }
    if (u.identifications.empty() && u.username.empty() && u.external_id.empty())
        return param_error(code::form_param_missing, "email_address",
                           "A user needs at least one identifier: email_address, phone_number or username.");
    if (auto bad = apply_password(a, ctx, u)) return *bad;
    store::unique_field conflict = store::unique_field::none;
    auto w = txn::write(
        a, "create_user", txn::on_client_error::abort,
        [&](store::write_txn& tx) -> store::result<void> {
            if (auto r = tx.users().put(u, nullptr, &conflict); !r) return r;
            return events::user_changed(a, tx, "user.created", u, &ctx);
        },
        [&] { return unique_param(conflict); });
    if (!w) return w.error();
    return json_reply(user_json(a, u, ctx.now));
}

api_result<reply> get_user(app& a, request_ctx& ctx) {
    auto u = read_user(a, ctx);
    if (!u) return u.error();
    return json_reply(user_json(a, *u, ctx.now));
}

api_result<reply> update_user(app& a, request_ctx& ctx) {
    auto primary_email = body_string(ctx, "primary_email_address_id", 64);
    if (!primary_email) return primary_email.error();
    auto primary_phone = body_string(ctx, "primary_phone_number_id", 64);
    if (!primary_phone) return primary_phone.error();
    auto sign_out = body_bool(ctx, "sign_out_of_other_sessions");
    if (!sign_out) return sign_out.error();
    // Hash a new password before the write txn opens (argon2 takes tens of ms; the txn must stay
    // short). An unknown user is a 404 before any password work.
    auto exists = read_user(a, ctx);
    if (!exists) return exists.error();
    store::user_record password_holder;
    if (auto bad = apply_password(a, ctx, password_holder)) return *bad;
    bool const new_password = password_holder.password_last_updated_at != 0;
    return modify(a, ctx, [&](store::write_txn& tx, store::user_record& u) -> std::optional<api_error> {
        if (auto bad = apply_profile(ctx, u)) return bad;
        std::string before_digest = u.password_digest;
        if (new_password) {
            u.password_digest = password_holder.password_digest;
            u.password_last_updated_at = password_holder.password_last_updated_at;
        }
        for (auto [given, kind, target, param] :
             {std::tuple{&*primary_email, "email_address", &u.primary_email_address_id, "primary_email_address_id"},
              std::tuple{&*primary_phone, "phone_number", &u.primary_phone_number_id, "primary_phone_number_id"}}) {
            if (!*given) continue;
            bool ok = false;
            for (auto const& i : u.identifications) ok = ok || (i.id == **given && i.kind == kind);
            if (!ok) return param_error(code::form_param_value_invalid, param);
            *target = **given;
        }
        if (u.password_digest != before_digest && sign_out->value_or(false))
            if (auto r = revoke_sessions(a, tx, u.id, ctx.now); !r) return store_error(r.error(), "revoke_sessions");
        return std::nullopt;
    });
}

api_result<reply> delete_user(app& a, request_ctx& ctx) {
    std::string id(ctx.params.get("user_id"));
    auto w = txn::write(a, "delete_user", txn::on_client_error::commit,
                        [&](store::write_txn& tx) -> store::result<api_result<void>> {
                            auto u = load_user(a, tx, id);
                            if (!u) return api_result<void>(u.error());
                            if (auto r = revoke_sessions(a, tx, id, ctx.now, "ended"); !r) return r.error();
                            if (auto r = orgs::forget_user(tx, id); !r)  // issue 13: memberships go in the same txn
                                return api_result<void>(r.error());
                            if (auto r = images::detach(tx, u->image_url, id); !r)  // issue 14: and the profile image
                                return api_result<void>(r.error());
                            if (auto r = tx.users().remove(*u); !r) return r.error();
                            if (auto e = events::user_deleted(a, tx, *u, &ctx); !e) return e.error();
                            return api_result<void>();
                        });
    if (!w) return w.error();
    return deleted_reply("user", id);
}

api_result<reply> ban_user(app& a, request_ctx& ctx) {
    return modify(a, ctx, [&](store::write_txn& tx, store::user_record& u) -> std::optional<api_error> {
        u.banned = true;
        if (auto r = revoke_sessions(a, tx, u.id, ctx.now); !r) return store_error(r.error(), "revoke_sessions");
        return std::nullopt;
    });
}

api_result<reply> unban_user(app& a, request_ctx& ctx) {
    return edit_user(a, ctx, [&](store::user_record& u) { u.banned = false; });
}

api_result<reply> lock_user(app& a, request_ctx& ctx) {
    return edit_user(a, ctx, [&](store::user_record& u) {
        u.locked = true;
        u.lockout_expires_at = ctx.now + a.cfg.protection.lockout.count() * 1000;
    });
}

api_result<reply> unlock_user(app& a, request_ctx& ctx) {
    return edit_user(a, ctx, [&](store::user_record& u) {
        u.locked = false;
        u.lockout_expires_at = 0;
        u.failed_attempts = 0;
    });
}

api_result<reply> update_user_metadata(app& a, request_ctx& ctx) { return write_metadata(a, ctx, true); }

api_result<reply> replace_user_metadata(app& a, request_ctx& ctx) { return write_metadata(a, ctx, false); }

api_result<reply> verify_password(app& a, request_ctx& ctx) {
    auto pw = required_body_string(ctx, "password", 256);
    if (!pw) return pw.error();
    auto u = read_user(a, ctx);
    if (!u) return u.error();
    auto const& digest = u->password_digest;
    if (digest.empty()) return param_error(code::password_not_set, "password");
    auto ok = crypto::verify_password(*pw, digest);
    if (!ok || !*ok) return param_error(code::form_password_incorrect, "password");
    return json_reply(json::object{{"verified", true}});
}

api_result<reply> remove_user_password(app& a, request_ctx& ctx) {
    return edit_user(a, ctx, [&](store::user_record& u) { u.password_digest.clear(); });
}

// ---- external accounts (issue 15; declared in server/api/federation/accounts.hpp) ----

api_result<reply> delete_user_external_account(app& a, request_ctx& ctx) {
    std::string const id(ctx.params.get("external_account_id"));
    auto w = txn::write(a, "delete_user_external_account", txn::on_client_error::commit,
                        [&](store::write_txn& tx) -> store::result<api_result<void>> {
                            auto u = load_user(a, tx, ctx.params.get("user_id"));
                            if (!u) return api_result<void>(u.error());
                            store::user_record const before = *u;
                            auto& accounts = u->external_accounts;
                            auto it = std::find_if(accounts.begin(), accounts.end(),
                                                   [&](auto const& e) { return e.id == id; });
                            if (it == accounts.end()) return api_result<void>(make_error(code::resource_not_found));
                            federation::revoke_after_commit(a, tx, *it);  // issue 15
                            accounts.erase(it);
                            u->updated_at = ctx.now;
                            if (auto r = tx.users().put(*u, &before); !r) return r.error();
                            if (auto e = events::user_changed(a, tx, "user.updated", *u, &ctx); !e) return e.error();
                            return api_result<void>();
                        });
    if (!w) return w.error();
    return deleted_reply("external_account", id);
}

// ---- profile image (issue 14): multipart `file`; the reply is the user ----

api_result<reply> set_user_profile_image(app& a, request_ctx& ctx) {
    auto up = images::read_upload(a, ctx);
    if (!up) return up.error();
    return modify(a, ctx, [&](store::write_txn& tx, store::user_record& u) -> std::optional<api_error> {
        auto r = images::attach(a, ctx, tx, u.image_url, u.id, std::move(*up));
        if (!r) return r.error();
        return std::nullopt;
    });
}

api_result<reply> delete_user_profile_image(app& a, request_ctx& ctx) {
    return modify(a, ctx, [&](store::write_txn& tx, store::user_record& u) -> std::optional<api_error> {
        if (auto r = images::detach(tx, u.image_url, u.id); !r) return r.error();
        return std::nullopt;
    });
}

}  // namespace latchkey::server::api::backend
