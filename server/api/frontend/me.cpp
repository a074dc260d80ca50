// The signed-in user's own account (FAPI /v1/me*): profile and metadata, password, self-deletion, service
// tokens, the user's sessions, and their email addresses and phone numbers. Every handler acts on the user
// of the request's session (see load_me); mutations reply through envelope() so clerk-js gets the updated
// client piggy-backed.
#include "server/api/federation/accounts.hpp"
#include "server/api/frontend/handlers.hpp"

#include "crypto/password.hpp"
#include "crypto/random.hpp"
#include "server/api/activity.hpp"
#include "server/api/domain/identifications.hpp"
#include "server/api/domain/metadata.hpp"
#include "server/api/domain/mfa.hpp"
#include "server/api/domain/sessions.hpp"
#include "server/api/domain/tokens.hpp"
#include "server/api/email_links/email_links.hpp"
#include "server/api/events.hpp"
#include "server/api/frontend/common.hpp"
#include "server/api/frontend/user_edit.hpp"
#include "server/api/images/images.hpp"
#include "server/api/organizations/orgs.hpp"
#include "server/api/templates.hpp"
#include "server/api/txn.hpp"
#include "server/api/views.hpp"
#include "server/log.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace latchkey::server::api::frontend {

namespace json = boost::json;

namespace {

constexpr std::size_t max_name_bytes = 256;
constexpr std::size_t max_metadata_bytes = std::size_t{8} * 1024;
constexpr std::size_t max_identifications_per_kind = 50;

// ---------------------------------------------------------------------------------------------------------
// The current user and transactions

/// What every /v1/me handler works on: the request's client, its selected session and that session's user.
using me = current_user;

/// The current user (frontend::load_current_user, the rule shared by every signed-in FAPI path).
api_result<me> load_me(app& a, request_ctx const& ctx, store::read_txn const& t) {
    return load_current_user(a, ctx, t);
}

/// Ends (status `status`) every live session of `user_id` except `keep_session_id`, and drops their cached
/// tokens. The current client forgets an ended last-active session and is marked changed.
api_result<void> end_user_sessions(app& a, request_ctx const& ctx, store::write_txn& w, std::string_view user_id,
                                   std::string_view keep_session_id, std::string_view status,
                                   store::client_record& client) {
    auto sessions = w.sessions().of_user(user_id);
    if (!sessions) return store_failure(sessions.error(), "sessions_of_user");
    auto ended = domain::end_sessions(a, w, *sessions, ctx.now, status, keep_session_id);
    if (!ended) return store_failure(ended.error(), "end_sessions");
    bool client_changed = false;
    for (auto const& s : *sessions) {
        if (s.client_id != client.id || std::find(ended->begin(), ended->end(), s.id) == ended->end()) continue;
        client_changed = true;
        if (client.last_active_session_id == s.id) client.last_active_session_id.clear();
    }
    if (client_changed) {
        client.updated_at = ctx.now;
        if (auto r = w.clients().put(client); !r) return store_failure(r.error(), "put_client");
    }
    return {};
}

// ---------------------------------------------------------------------------------------------------------
// Input checks

/// A form boolean ("true"/"false"; absent or empty = not given).
api_result<std::optional<bool>> bool_field(request_ctx const& ctx, std::string_view name) {
    auto v = field(ctx, name);
    if (!v || v->empty()) return std::optional<bool>{};
    if (*v == "true" || *v == "1") return std::optional<bool>{true};
    if (*v == "false" || *v == "0") return std::optional<bool>{false};
    return param_error(code::form_param_type_invalid, name, std::string(name) + " must be true or false.");
}

std::optional<api_error> check_name(std::optional<std::string> const& v, std::string_view param) {
    if (v && v->size() > max_name_bytes)
        return param_error(code::form_param_max_length_exceeded, param,
                           std::string(param) + " must be at most 256 characters long.");
    return std::nullopt;
}

/// Usernames: 4..64 characters of [a-zA-Z0-9_-].
std::optional<api_error> check_username(std::string_view v) {
    if (v.size() < 4 || v.size() > 64) return param_error(code::form_username_invalid_length, "username");
    for (char ch : v) {
        bool ok =
            (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
        if (!ok) return param_error(code::form_username_invalid_character, "username");
    }
    return std::nullopt;
}

/// Parses a metadata field: a JSON object text; "" (clerk-js sends null that way) is the empty object.
api_result<json::object> parse_metadata(std::string_view text, std::string_view param) {
    if (text.empty()) return json::object{};
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec || !v.is_object())
        return param_error(code::form_param_format_invalid, param, std::string(param) + " must be a JSON object.");
    return std::move(v.as_object());
}

/// Serializes metadata, refusing more than 8 KiB.
api_result<std::string> metadata_text(json::object const& o, std::string_view param) {
    std::string s = json::serialize(o);
    if (s.size() > max_metadata_bytes)
        return param_error(code::form_param_max_length_exceeded, param,
                           std::string(param) + " must be at most 8 KiB of JSON.");
    return s;
}

/// The current password must match the stored digest: 422 form_password_incorrect otherwise.
std::optional<api_error> check_current_password(std::string_view password, std::string_view digest) {
    auto ok = crypto::verify_password(password, digest);
    if (!ok) {
        log::warn("password_verify_failed", {{"error", ok.error().message()}});
        return param_error(code::form_password_incorrect, "current_password");
    }
    if (!*ok) return param_error(code::form_password_incorrect, "current_password");
    return std::nullopt;
}

/// Per-key rate limit (per identifier per minute): 429 with retry_after when exceeded.
std::optional<api_error> throttle(app& a, request_ctx const& ctx, std::string const& key) {
    std::int64_t retry_after = 0;
    if (a.limiter.hit(key, a.cfg.protection.rate_per_identifier_per_minute, std::chrono::seconds(60), ctx.now,
                      retry_after))
        return std::nullopt;
    auto e = make_error(code::too_many_requests);
    e.meta["retry_after"] = retry_after;
    return e;
}

bool has_factor(std::vector<std::string> const& factors, std::string_view f) {
    return std::find(factors.begin(), factors.end(), f) != factors.end();
}

/// Whether the user has at least one way to sign in with the instance's first factors.
bool can_sign_in(app const& a, store::user_record const& u) {
    bool email = false;
    bool phone = false;
    for (auto const& i : u.identifications) {
        if (i.verification.status != "verified") continue;
        if (i.kind == "email_address") email = true;
        if (i.kind == "phone_number") phone = true;
    }
    email = email && a.cfg.email_address.used_for_first_factor;
    phone = phone && a.cfg.phone_number.used_for_first_factor;
    bool const username = !u.username.empty() && a.cfg.username.used_for_first_factor;
    auto const& f = a.cfg.first_factors;
    bool const password = !u.password_digest.empty() && (a.cfg.password.enabled || has_factor(f, "password"));
    if (password && (email || phone || username)) return true;
    if (email && (has_factor(f, "email_code") || has_factor(f, "email_link"))) return true;
    if (phone && has_factor(f, "phone_code")) return true;
    return false;
}

// ---------------------------------------------------------------------------------------------------------
// JSON

json::object deleted_object(std::string_view object, std::string_view id) {
    json::object o;
    o["object"] = object;
    o["id"] = id;
    o["deleted"] = true;
    return o;
}

json::value str_or_null(std::string const& s) { return s.empty() ? json::value(nullptr) : json::value(s); }

/// The frontend user object as of this request (its lockout fields depend on the clock).
json::object user_view(app const& a, request_ctx const& ctx, store::user_record const& u) {
    return views::user(u, views::audience::frontend, lockout_now(a, u, ctx.now));
}

/// Status as shown to clients: a signed-in session past its expiry reads "expired".
std::string shown_status(store::session_record const& s, std::int64_t now) {
    if ((s.status == "active" || s.status == "pending") && !views::session_live(s, now)) return "expired";
    return s.status;
}

/// The fields every session shape shares (Client.SessionBase). No token: these lists include sessions of
/// other devices, whose tokens must not leave them.
json::object session_base(store::session_record const& s, std::int64_t now) {
    json::object o;
    o["object"] = "session";
    o["id"] = s.id;
    o["status"] = shown_status(s, now);
    o["expire_at"] = s.expire_at;
    o["abandon_at"] = s.abandon_at;
    o["last_active_at"] = s.last_active_at;
    o["last_active_token"] = nullptr;
    o["actor"] = s.actor.empty() ? json::value(nullptr) : views::json_text(s.actor);
    o["tasks"] = nullptr;
    return o;
}

/// Client.Session (GET /v1/me/sessions).
json::object listed_session(store::session_record const& s, json::object const& user, json::object const& pud,
                            std::int64_t now) {
    json::object o = session_base(s, now);
    o["last_active_organization_id"] = str_or_null(s.last_active_organization_id);
    o["user"] = user;
    o["public_user_data"] = pud;
    std::int64_t fva1 = s.first_factor_at > 0 ? (now - s.first_factor_at) / 60000 : 0;
    std::int64_t fva2 = s.second_factor_at > 0 ? (now - s.second_factor_at) / 60000 : -1;
    o["factor_verification_age"] = json::array{fva1, fva2};
    o["created_at"] = s.created_at;
    o["updated_at"] = s.updated_at;
    return o;
}

/// Client.ActiveSession (GET /v1/me/sessions/active): clerk-js's SessionWithActivities, with the device,
/// browser, address and place recorded for the session (activity.hpp).
json::object active_session(store::session_record const& s, std::int64_t now) {
    json::object o = session_base(s, now);
    o["latest_activity"] = activity_json(s);
    return o;
}

/// A bare JSON array reply (the spec's list shapes; clerk-js maps `payload` itself for active sessions).
reply array_reply(json::array const& arr) { return reply{http::status::ok, json::serialize(arr), {}}; }

// ---------------------------------------------------------------------------------------------------------
// Email addresses and phone numbers share one implementation.

using domain::email_kind;
using domain::ident_kind;
using domain::is_email;
using domain::phone_kind;
using domain::primary_of;

conf::attribute const& attribute_of(app const& a, ident_kind const& k) {
    return is_email(k) ? a.cfg.email_address : a.cfg.phone_number;
}

json::object ident_json(ident_kind const& k, store::user_record const& u, store::identification_record const& i) {
    return domain::identification_json(k, u, i);
}

store::identification_record* find_ident(store::user_record& u, std::string_view id, std::string_view kind) {
    for (auto& i : u.identifications)
        if (i.id == id && i.kind == kind) return &i;
    return nullptr;
}

/// Second-factor flags on phone numbers need SMS as an enabled second factor (and, checked by the caller, a
/// verified number).
std::optional<api_error> check_second_factor_flag(app const& a, std::optional<bool> v, std::string_view param) {
    if (!v || !*v) return std::nullopt;
    if (!has_factor(a.cfg.second_factors, "phone_code"))
        return param_error(code::form_param_value_invalid, param,
                           "SMS is not enabled as a second factor on this instance.");
    return std::nullopt;
}

api_result<reply> list_idents(app& a, request_ctx& ctx, ident_kind const& k) {
    auto arr = txn::read<json::array>(a, "list_identifications", [&](store::read_txn& t) -> api_result<json::array> {
        auto m = load_me(a, ctx, t);
        if (!m) return m.error();
        json::array out;
        for (auto const& i : m->user.identifications)
            if (i.kind == k.kind) out.push_back(ident_json(k, m->user, i));
        return out;
    });
    if (!arr) return arr.error();
    return array_reply(*arr);
}

api_result<reply> create_ident(app& a, request_ctx& ctx, ident_kind const& k) {
    if (auto e = require_current_user(a, ctx)) return *e;
    auto raw = field(ctx, k.kind);
    if (!raw || raw->empty()) return param_error(code::form_param_missing, k.kind);
    if (!attribute_of(a, k).enabled)
        return param_error(code::form_param_unknown, k.kind,
                           "This instance does not use " + std::string(k.plural) + ".");
    auto value = domain::normalize_identification(k, *raw);
    if (!value)
        return param_error(code::form_param_format_invalid, k.kind, "Enter a valid " + std::string(k.noun) + ".");
    if (!is_email(k)) {
        auto reserved = bool_field(ctx, "reserved_for_second_factor");
        if (!reserved) return reserved.error();
        if (auto e = check_second_factor_flag(a, *reserved, "reserved_for_second_factor")) return *e;
        if (reserved->value_or(false))
            return param_error(code::form_param_value_invalid, "reserved_for_second_factor",
                               "Verify this phone number first.");
    }
    return edit_current_user(
        a, ctx, "create_identification", [&](me& m, store::write_txn&, bool&) -> api_result<json::value> {
            std::size_t count = 0;
            for (auto const& i : m.user.identifications) {
                if (i.kind != k.kind) continue;
                if (i.value == *value)
                    return param_error(code::form_identifier_exists, k.kind,
                                       "This " + std::string(k.noun) + " is already on your account.");
                ++count;
            }
            if (count >= max_identifications_per_kind)
                return param_error(code::form_param_value_invalid, k.kind,
                                   "This account has too many " + std::string(k.plural) + ".");
            return ident_json(k, m.user, domain::add_identification(m.user, k, *value, ctx.now));
        });
}

api_result<reply> get_ident(app& a, request_ctx& ctx, ident_kind const& k) {
    std::string_view id = ctx.params.get(k.fapi_param);
    return view_current_user(a, ctx, "get_identification", [&](me& m) -> api_result<json::value> {
        auto* i = find_ident(m.user, id, k.kind);
        if (i == nullptr) return make_error(code::resource_not_found);
        return ident_json(k, m.user, *i);
    });
}

api_result<reply> delete_ident(app& a, request_ctx& ctx, ident_kind const& k) {
    std::string const id(ctx.params.get(k.fapi_param));
    return edit_current_user(
        a, ctx, "delete_identification", [&](me& m, store::write_txn&, bool&) -> api_result<json::value> {
            auto& user = m.user;
            auto const* found = find_ident(user, id, k.kind);
            if (found == nullptr) return make_error(code::resource_not_found);
            bool const could_sign_in = can_sign_in(a, user);
            bool const was_verified = found->verification.status == "verified";
            // A verified one of the same kind takes over as primary (or none is left).
            domain::remove_identification(user, k, id,
                                          [](auto const& i) { return i.verification.status == "verified"; });
            std::string const& primary = primary_of(user, k);
            if (was_verified && attribute_of(a, k).required && primary.empty()) {
                auto e = make_error(code::cannot_remove_last_identification);
                e.long_message = "This instance requires a verified " + std::string(k.noun) + " on every account.";
                return e;
            }
            if (could_sign_in && !can_sign_in(a, user)) return make_error(code::cannot_remove_last_identification);
            domain::refresh_second_factor_flags(user);  // a number reserved for second factors may have gone
            return deleted_object(k.kind, id);
        });
}

api_result<reply> prepare_ident(app& a, request_ctx& ctx, ident_kind const& k) {
    if (auto e = require_current_user(a, ctx)) return *e;
    std::string const id(ctx.params.get(k.fapi_param));
    auto strategy = field(ctx, "strategy");
    if (!strategy || strategy->empty()) return param_error(code::form_param_missing, "strategy");
    bool const link = *strategy == email_links::strategy && k.kind == std::string_view("email_address");  // issue 14
    if (*strategy != k.strategy && !link)
        return param_error(code::form_param_value_invalid, "strategy",
                           "The only supported strategy is " + std::string(k.strategy) + ".");
    std::string redirect;
    if (link) {
        auto r = email_links::checked_redirect(a, ctx);
        if (!r) return r.error();
        redirect = std::move(*r);
    }
    if (auto e = throttle(a, ctx, "me_prepare:" + id)) return *e;
    return edit_current_user(
        a, ctx, "prepare_verification", [&](me& m, store::write_txn& w, bool&) -> api_result<json::value> {
            auto* i = find_ident(m.user, id, k.kind);
            if (i == nullptr) return make_error(code::resource_not_found);
            if (i->verification.status == "verified") return make_error(code::verification_already_verified);
            if (link) {
                if (auto sent = email_links::prepare(a, ctx, w, i->verification, m.user.id, i->id, i->value,
                                                     std::move(redirect), m.user.id);
                    !sent)
                    return sent.error();
            } else if (auto sent =
                           prepare_code(a, ctx, w, i->verification, k.strategy, k.channel, i->value, i->id, m.user.id);
                       !sent)
                return sent.error();
            i->updated_at = ctx.now;
            return ident_json(k, m.user, *i);
        });
}

api_result<reply> attempt_ident(app& a, request_ctx& ctx, ident_kind const& k) {
    if (auto e = require_current_user(a, ctx)) return *e;
    std::string const id(ctx.params.get(k.fapi_param));
    auto code_value = field(ctx, "code");
    if (!code_value || code_value->empty()) return param_error(code::form_param_missing, "code");
    // The attempt's outcome (attempt count, failed/expired state) is stored even when it is an error.
    return edit_current_user(a, ctx, "attempt_verification",
                             [&](me& m, store::write_txn&, bool& spent) -> api_result<json::value> {
                                 auto* i = find_ident(m.user, id, k.kind);
                                 if (i == nullptr) return make_error(code::resource_not_found);
                                 i->updated_at = ctx.now;
                                 if (auto r = attempt_code(a, ctx, i->verification, *code_value); !r) {
                                     spent = true;
                                     return r.error();
                                 }
                                 std::string& primary = primary_of(m.user, k);
                                 if (primary.empty()) primary = i->id;
                                 return ident_json(k, m.user, *i);
                             });
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// /v1/me

api_result<reply> get_me(app& a, request_ctx& ctx) {
    return view_current_user(a, ctx, "get_me",
                             [&](me& m) -> api_result<json::value> { return user_view(a, ctx, m.user); });
}

api_result<reply> update_me(app& a, request_ctx& ctx) {
    if (auto e = require_current_user(a, ctx)) return *e;
    auto first_name = field(ctx, "first_name");
    auto last_name = field(ctx, "last_name");
    if (auto e = check_name(first_name, "first_name")) return *e;
    if (auto e = check_name(last_name, "last_name")) return *e;

    auto username = field(ctx, "username");
    if (username) {
        if (username->empty()) {
            if (a.cfg.username.required) return param_error(code::form_param_missing, "username");
        } else {
            if (!a.cfg.username.enabled)
                return param_error(code::form_param_unknown, "username", "Usernames are not enabled on this instance.");
            if (auto e = check_username(*username)) return *e;
        }
    }

    std::optional<std::string> unsafe;
    if (auto raw = field(ctx, "unsafe_metadata")) {
        auto o = parse_metadata(*raw, "unsafe_metadata");
        if (!o) return o.error();
        auto text = metadata_text(*o, "unsafe_metadata");
        if (!text) return text.error();
        unsafe = std::move(*text);
    }

    auto primary_email = field(ctx, "primary_email_address_id");
    auto primary_phone = field(ctx, "primary_phone_number_id");
    if (auto w3 = field(ctx, "primary_web3_wallet_id"); w3 && !w3->empty())
        return param_error(code::form_param_value_invalid, "primary_web3_wallet_id",
                           "This account has no web3 wallets.");

    // A new primary must be one of the user's own, verified identifications of that kind.
    auto set_primary = [](store::user_record& u, std::optional<std::string> const& id, ident_kind const& k,
                          std::string_view param) -> api_result<void> {
        if (!id || id->empty()) return {};
        auto* i = find_ident(u, *id, k.kind);
        if (i == nullptr)
            return param_error(code::form_param_value_invalid, param,
                               "No such " + std::string(k.noun) + " on this account.");
        if (i->verification.status != "verified")
            return param_error(code::form_param_value_invalid, param,
                               "Verify this " + std::string(k.noun) + " before making it primary.");
        primary_of(u, k) = *id;
        return {};
    };

    return edit_current_user(a, ctx, "update_me", [&](me& m, store::write_txn&, bool&) -> api_result<json::value> {
        auto& user = m.user;
        if (first_name) user.first_name = *first_name;
        if (last_name) user.last_name = *last_name;
        if (username) user.username = *username;
        if (unsafe) user.unsafe_metadata = *unsafe;
        if (auto r = set_primary(user, primary_email, email_kind, "primary_email_address_id"); !r) return r.error();
        if (auto r = set_primary(user, primary_phone, phone_kind, "primary_phone_number_id"); !r) return r.error();
        return user_view(a, ctx, user);
    });
}

api_result<reply> delete_me(app& a, request_ctx& ctx) {
    auto staged = txn::write<staged_reply>(
        a, "delete_me", txn::on_client_error::abort, [&](store::write_txn& w) -> api_result<staged_reply> {
            auto m = load_me(a, ctx, w);
            if (!m) return m.error();
            if (!m->user.delete_self_enabled) return make_error(code::delete_self_disabled);
            if (auto e = domain::require_recent_verification(a, m->session, m->user, ctx.now)) return *e;  // step-up
            // Every session of the user ends, the current one included; this client forgets it.
            if (auto r = end_user_sessions(a, ctx, w, m->user.id, {}, "removed", m->client); !r) return r.error();
            if (auto r = orgs::forget_user(w, m->user.id); !r) return r.error();                  // issue 13: same txn
            if (auto r = images::detach(w, m->user.image_url, m->user.id); !r) return r.error();  // issue 14
            if (auto r = w.users().remove(m->user); !r) return store_failure(r.error(), "delete_user");
            if (auto e = events::user_deleted(a, w, m->user, &ctx); !e) return store_failure(e.error(), "webhook");
            return stage_reply(a, ctx, w, deleted_object("user", m->user.id));
        });
    if (!staged) return staged.error();
    return envelope(a, ctx, *staged);
}

api_result<reply> update_me_metadata(app& a, request_ctx& ctx) {
    if (auto e = require_current_user(a, ctx)) return *e;
    auto raw = field(ctx, "unsafe_metadata");
    if (!raw) return param_error(code::form_param_missing, "unsafe_metadata");
    auto patch = parse_metadata(*raw, "unsafe_metadata");
    if (!patch) return patch.error();
    return edit_current_user(a, ctx, "update_me_metadata",
                             [&](me& m, store::write_txn&, bool&) -> api_result<json::value> {
                                 json::value current = views::json_text(m.user.unsafe_metadata);
                                 domain::merge_metadata(current.as_object(), *patch);
                                 auto text = metadata_text(current.as_object(), "unsafe_metadata");
                                 if (!text) return text.error();
                                 m.user.unsafe_metadata = std::move(*text);
                                 return user_view(a, ctx, m.user);
                             });
}

api_result<reply> create_me_token(app& a, request_ctx& ctx) {
    if (auto e = require_current_user(a, ctx)) return *e;
    // A token for an integration ("service"). We have no third-party integrations; a service that names a JWT
    // template gets that template's token for the current session.
    auto service = field(ctx, "service");
    if (!service || service->empty()) return param_error(code::form_param_missing, "service");
    auto jwt = txn::read<std::string>(a, "create_me_token", [&](store::read_txn& t) -> api_result<std::string> {
        auto m = load_me(a, ctx, t);
        if (!m) return m.error();
        auto tpl = t.jwt_templates().by_name(*service);
        if (!tpl) return store_failure(tpl.error(), "jwt_template_by_name");
        if (!*tpl)
            return param_error(code::form_param_value_invalid, "service",
                               "No integration or JWT template has this name.");
        auto claims = render_template_claims(a, **tpl, m->user, m->session);
        return domain::mint_session_token(a, m->session, ctx.azp, ctx.now, &claims, (*tpl)->lifetime);
    });
    if (!jwt) return jwt.error();
    // Bare token object, like every token endpoint (clerk-wire §3).
    json::object o;
    o["object"] = "token";
    o["jwt"] = *jwt;
    return reply{http::status::ok, json::serialize(o), {}};
}

api_result<reply> change_password(app& a, request_ctx& ctx) {
    if (auto e = require_current_user(a, ctx)) return *e;
    auto current = field(ctx, "current_password");
    auto next = field(ctx, "new_password");
    if (!next || next->empty()) return param_error(code::form_param_missing, "new_password");
    if (auto e = check_password_policy(a, *next)) {
        e->meta["param_name"] = "new_password";
        return *e;
    }
    auto sign_out_others = bool_field(ctx, "sign_out_of_other_sessions");
    if (!sign_out_others) return sign_out_others.error();

    // Verify and hash outside any txn (both are slow), then apply only if the password did not change meanwhile.
    auto m = txn::read<me>(a, "change_password", [&](store::read_txn& t) { return load_me(a, ctx, t); });
    if (!m) return m.error();
    if (auto e = domain::require_recent_verification(a, m->session, m->user, ctx.now)) return *e;  // step-up
    std::string const old_digest = m->user.password_digest;
    if (!old_digest.empty()) {
        if (!current || current->empty()) return param_error(code::form_param_missing, "current_password");
        if (auto e = throttle(a, ctx, "me_password:" + m->user.id)) return *e;
        if (auto e = check_current_password(*current, old_digest)) return *e;
    }
    auto digest = crypto::hash_password(*next);
    if (!digest) {
        log::error("hash_failed", {{"error", digest.error().message()}});
        return make_error(code::internal_clerk_error);
    }

    return edit_current_user(
        a, ctx, "change_password", [&](me& cur, store::write_txn& w, bool&) -> api_result<json::value> {
            if (cur.user.id != m->user.id || cur.user.password_digest != old_digest)
                return param_error(code::form_password_incorrect, "current_password");
            cur.user.password_digest = *digest;
            cur.user.password_last_updated_at = ctx.now;
            if (sign_out_others->value_or(false))
                if (auto r = end_user_sessions(a, ctx, w, cur.user.id, cur.session.id, "revoked", cur.client); !r)
                    return r.error();
            return user_view(a, ctx, cur.user);
        });
}

api_result<reply> remove_password(app& a, request_ctx& ctx) {
    auto current = field(ctx, "current_password");
    auto m = txn::read<me>(a, "remove_password", [&](store::read_txn& t) { return load_me(a, ctx, t); });
    if (!m) return m.error();
    std::string const old_digest = m->user.password_digest;
    if (old_digest.empty()) return make_error(code::password_not_set);
    if (a.cfg.password.required) {
        auto e = make_error(code::cannot_remove_last_identification);
        e.long_message = "A password is required on this instance.";
        return e;
    }
    if (!current || current->empty()) return param_error(code::form_param_missing, "current_password");
    if (auto e = throttle(a, ctx, "me_password:" + m->user.id)) return *e;
    if (auto e = check_current_password(*current, old_digest)) return *e;

    return edit_current_user(a, ctx, "remove_password",
                             [&](me& cur, store::write_txn&, bool&) -> api_result<json::value> {
                                 if (cur.user.id != m->user.id || cur.user.password_digest != old_digest)
                                     return param_error(code::form_password_incorrect, "current_password");
                                 cur.user.password_digest.clear();
                                 cur.user.password_last_updated_at = 0;
                                 if (!can_sign_in(a, cur.user)) {
                                     auto e = make_error(code::cannot_remove_last_identification);
                                     e.long_message = "Without a password this account would have no way to sign in.";
                                     return e;
                                 }
                                 return user_view(a, ctx, cur.user);
                             });
}

// ---------------------------------------------------------------------------------------------------------
// /v1/me/sessions

namespace {

/// The current user's sessions as a bare JSON array (the spec's list shapes; clerk-js maps the payload itself), each
/// through `add(out, session, user)`.
template <class Add>
api_result<reply> my_sessions(app& a, request_ctx& ctx, std::string_view what, Add add) {
    auto arr = txn::read<json::array>(a, what, [&](store::read_txn& t) -> api_result<json::array> {
        auto m = load_me(a, ctx, t);
        if (!m) return m.error();
        auto sessions = t.sessions().of_user(m->user.id);
        if (!sessions) return store_failure(sessions.error(), "sessions_of_user");
        json::array out;
        for (auto const& s : *sessions) add(out, s, m->user);
        return out;
    });
    if (!arr) return arr.error();
    return array_reply(*arr);
}

}  // namespace

api_result<reply> me_sessions(app& a, request_ctx& ctx) {
    std::optional<std::pair<json::object, json::object>> shown;  // the user and its public data, rendered once
    return my_sessions(a, ctx, "me_sessions",
                       [&](json::array& out, store::session_record const& s, store::user_record const& u) {
                           if (!shown) shown.emplace(user_view(a, ctx, u), views::public_user_data(u));
                           out.push_back(listed_session(s, shown->first, shown->second, ctx.now));
                       });
}

api_result<reply> me_active_sessions(app& a, request_ctx& ctx) {
    return my_sessions(a, ctx, "me_active_sessions",
                       [&](json::array& out, store::session_record const& s, store::user_record const&) {
                           if (views::session_live(s, ctx.now)) out.push_back(active_session(s, ctx.now));
                       });
}

api_result<reply> me_revoke_session(app& a, request_ctx& ctx) {
    std::string const sid(ctx.params.get("session_id"));
    struct revoked {
        store::session_record session;
        store::user_record user;
        client_snapshot client;
    };
    auto r = txn::write<revoked>(a, "me_revoke_session", txn::on_client_error::abort,
                                 [&](store::write_txn& w) -> api_result<revoked> {
                                     auto m = load_me(a, ctx, w);
                                     if (!m) return m.error();
                                     auto s = w.sessions().get(sid);
                                     if (!s) return store_failure(s.error(), "get_session");
                                     if (!*s || (*s)->user_id != m->user.id)
                                         return make_error(code::resource_not_found);
                                     auto rec = **s;
                                     domain::drop_tokens_after_commit(a, w, {rec.id});
                                     if (views::session_live(rec, ctx.now)) {
                                         rec.status = "revoked";
                                         rec.updated_at = ctx.now;
                                         if (auto p = w.sessions().put(rec); !p)
                                             return store_failure(p.error(), "put_session");
                                         if (auto e = events::session_ended(a, w, rec, &ctx); !e)
                                             return store_failure(e.error(), "webhook");
                                         if (rec.client_id == m->client.id) {
                                             if (m->client.last_active_session_id == rec.id)
                                                 m->client.last_active_session_id.clear();
                                             m->client.updated_at = ctx.now;
                                             if (auto p = w.clients().put(m->client); !p)
                                                 return store_failure(p.error(), "put_client");
                                         }
                                     }
                                     auto c = stage_client(a, ctx, w);
                                     if (!c) return c.error();
                                     return revoked{std::move(rec), std::move(m->user), std::move(*c)};
                                 });
    if (!r) return r.error();
    auto sj = session_json(a, ctx, r->session, r->user, ctx.now);
    if (!sj) return sj.error();
    return envelope(a, ctx, std::move(*sj), r->client);
}

// ---------------------------------------------------------------------------------------------------------
// /v1/me/email_addresses

api_result<reply> list_email_addresses(app& a, request_ctx& ctx) { return list_idents(a, ctx, email_kind); }
api_result<reply> create_email_address(app& a, request_ctx& ctx) { return create_ident(a, ctx, email_kind); }
api_result<reply> get_email_address(app& a, request_ctx& ctx) { return get_ident(a, ctx, email_kind); }
api_result<reply> delete_email_address(app& a, request_ctx& ctx) { return delete_ident(a, ctx, email_kind); }
api_result<reply> prepare_email_verification(app& a, request_ctx& ctx) { return prepare_ident(a, ctx, email_kind); }
api_result<reply> attempt_email_verification(app& a, request_ctx& ctx) { return attempt_ident(a, ctx, email_kind); }

// ---------------------------------------------------------------------------------------------------------
// /v1/me/phone_numbers

api_result<reply> list_phone_numbers(app& a, request_ctx& ctx) { return list_idents(a, ctx, phone_kind); }
api_result<reply> create_phone_number(app& a, request_ctx& ctx) { return create_ident(a, ctx, phone_kind); }
api_result<reply> get_phone_number(app& a, request_ctx& ctx) { return get_ident(a, ctx, phone_kind); }

api_result<reply> update_phone_number(app& a, request_ctx& ctx) {
    if (auto e = require_current_user(a, ctx)) return *e;
    auto reserved = bool_field(ctx, "reserved_for_second_factor");
    if (!reserved) return reserved.error();
    auto default_sf = bool_field(ctx, "default_second_factor");
    if (!default_sf) return default_sf.error();
    std::string const id(ctx.params.get(phone_kind.fapi_param));
    if (auto e = check_second_factor_flag(a, *reserved, "reserved_for_second_factor")) return *e;
    if (auto e = check_second_factor_flag(a, *default_sf, "default_second_factor")) return *e;
    // Second factors (issue 14): the flags are stored; the first SMS second factor comes with backup codes.
    return edit_current_user(
        a, ctx, "update_phone_number", [&](me& m, store::write_txn&, bool&) -> api_result<json::value> {
            auto* i = find_ident(m.user, id, phone_kind.kind);
            if (i == nullptr) return make_error(code::resource_not_found);
            if (((reserved->value_or(false)) || (default_sf->value_or(false))) && i->verification.status != "verified")
                return param_error(code::form_param_value_invalid,
                                   reserved->value_or(false) ? "reserved_for_second_factor" : "default_second_factor",
                                   "Verify this phone number first.");
            if (reserved->has_value()) {
                i->reserved_for_second_factor = **reserved;
                if (!**reserved) i->default_second_factor = false;
            }
            if (default_sf->value_or(false)) {
                if (!i->reserved_for_second_factor)
                    return param_error(code::form_param_value_invalid, "default_second_factor",
                                       "Reserve this phone number for second factors first.");
                for (auto& other : m.user.identifications) other.default_second_factor = false;
                i->default_second_factor = true;
            }
            i->updated_at = ctx.now;
            bool const had = m.user.two_factor_enabled;
            domain::refresh_second_factor_flags(m.user);
            std::vector<std::string> codes;
            if (!had && m.user.two_factor_enabled && has_factor(a.cfg.second_factors, "backup_code") &&
                m.user.backup_code_digests.empty())
                codes = domain::create_backup_codes(m.user, a.inst.code_key, ctx.now);
            json::object o = ident_json(phone_kind, m.user, *i);
            if (!codes.empty()) {
                json::array arr;
                for (auto const& c : codes) arr.push_back(json::string(c));
                o["backup_codes"] = std::move(arr);
            }
            return o;
        });
}

api_result<reply> delete_phone_number(app& a, request_ctx& ctx) { return delete_ident(a, ctx, phone_kind); }
api_result<reply> prepare_phone_verification(app& a, request_ctx& ctx) { return prepare_ident(a, ctx, phone_kind); }
api_result<reply> attempt_phone_verification(app& a, request_ctx& ctx) { return attempt_ident(a, ctx, phone_kind); }

// ---- external accounts (issue 15; declared in server/api/federation/accounts.hpp) ----

api_result<reply> delete_external_account(app& a, request_ctx& ctx) {
    std::string const id(ctx.params.get("external_account_id"));
    return edit_current_user(
        a, ctx, "delete_external_account", [&](me& m, store::write_txn& w, bool&) -> api_result<json::value> {
            auto& accounts = m.user.external_accounts;
            auto it = std::find_if(accounts.begin(), accounts.end(), [&](auto const& e) { return e.id == id; });
            if (it == accounts.end()) return make_error(code::resource_not_found);
            federation::revoke_after_commit(a, w, *it);  // issue 15: the provider is told, after the commit
            accounts.erase(it);
            // The last way in stays: another PROVEN provider identity (a link still pending or one that failed is
            // no way in), or a factor can_sign_in counts.
            bool const proven_left =
                std::any_of(accounts.begin(), accounts.end(), [](auto const& e) { return store::proven(e); });
            if (!proven_left && !can_sign_in(a, m.user)) return make_error(code::cannot_remove_last_identification);
            return deleted_object("external_account", id);
        });
}

// ---------------------------------------------------------------------------------------------------------
// /v1/me/profile_image (issue 14): the image is stored with the user's change, in one txn; the reply is Clerk's
// Image object and the piggy-backed client carries the user's new image_url/has_image.

api_result<reply> set_profile_image(app& a, request_ctx& ctx) {
    if (auto e = require_current_user(a, ctx)) return *e;
    auto up = images::read_upload(a, ctx);
    if (!up) return up.error();
    return edit_current_user(a, ctx, "set_profile_image",
                             [&](me& m, store::write_txn& w, bool&) -> api_result<json::value> {
                                 auto r = images::attach(a, ctx, w, m.user.image_url, m.user.id, std::move(*up));
                                 if (!r) return r.error();
                                 return images::image_json(a, *r);
                             });
}

api_result<reply> delete_profile_image(app& a, request_ctx& ctx) {
    return edit_current_user(a, ctx, "delete_profile_image",
                             [&](me& m, store::write_txn& w, bool&) -> api_result<json::value> {
                                 if (m.user.image_url.empty()) return make_error(code::resource_not_found);
                                 std::string id(images::id_in(m.user.image_url));
                                 if (id.empty()) id = m.user.id;  // an imported image URL
                                 if (auto r = images::detach(w, m.user.image_url, m.user.id); !r) return r.error();
                                 return deleted_object("image", id);
                             });
}

}  // namespace latchkey::server::api::frontend
