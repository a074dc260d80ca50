// Sign-ins: identify, first factor (password, email/phone code, password-reset codes), reset password,
// second-factor gate. Failed attempts count towards the user lockout; auth endpoints are rate limited.
//
// Password checks take tens of milliseconds, so they run before the LMDB write txn opens (LMDB has one
// writer at a time); the write re-reads the user and applies the outcome only when the digest that was
// checked is still the stored one (else it checks again, inside). Every step persists the sign-in and the
// user's failure counters even when it answers with an error.
#include "server/api/frontend/handlers.hpp"

#include "crypto/password.hpp"
#include "crypto/random.hpp"
#include "server/api/domain/mfa.hpp"
#include "server/api/domain/passkeys.hpp"
#include "server/api/domain/sessions.hpp"
#include "server/api/domain/tickets.hpp"
#include "server/api/domain/web3.hpp"
#include "server/api/email_links/email_links.hpp"
#include "server/api/federation/federation.hpp"
#include "server/api/federation/id_tokens.hpp"
#include "server/api/frontend/attempts.hpp"
#include "server/api/frontend/common.hpp"
#include "server/api/organizations/orgs.hpp"
#include "server/api/saml/saml.hpp"
#include "server/api/txn.hpp"
#include "server/api/views.hpp"
#include "server/log.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cctype>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace latchkey::server::api::frontend {

namespace json = boost::json;

namespace {

/// How long an unfinished sign-in stays usable.
constexpr std::int64_t attempt_lifetime_ms = 24LL * 3600 * 1000;

/// A fixed argon2id digest with today's cost parameters. An unknown identifier that comes with a password
/// pays for one real verification against it, so the reply time does not reveal whether the account exists.
constexpr std::string_view dummy_digest =
    "$argon2id$v=19$m=19456,t=2,p=1$Of0HhE3xC9zLIZTxCX8sGQ$Pw7mpuWCGpLG2bjkCgFZIwT7rzhBmuftaGu2jyY4xM4";

bool is_email_strategy(std::string_view s) {
    return s == "email_code" || s == "reset_password_email_code" || s == email_links::strategy;
}

bool is_phone_strategy(std::string_view s) { return s == "phone_code" || s == "reset_password_phone_code"; }

bool is_reset_strategy(std::string_view s) { return s.starts_with("reset_password_"); }

bool is_code_strategy(std::string_view s) { return is_email_strategy(s) || is_phone_strategy(s); }

bool factor_enabled(app const& a, std::string_view f) {
    for (auto const& x : a.cfg.first_factors)
        if (x == f) return true;
    return false;
}

std::optional<api_error> limit_ip(app& a, request_ctx const& ctx, std::string_view action) {
    return rate_limit_ip(a, ctx, "sign_in", action);
}

/// Per account (user id) or, before one is known, per normalized identifier.
std::optional<api_error> limit_identifier(app& a, request_ctx const& ctx, std::string_view who) {
    std::string key = "sign_in:id:";
    key += who;
    return rate_limit(a, ctx, key, a.cfg.protection.rate_per_identifier_per_minute);
}

char const* kind_of(std::string_view strategy) {
    return is_email_strategy(strategy) ? "email_address" : "phone_number";
}

json::array supported_first_factors(app const& a, store::user_record const& u) {
    json::array out;
    if (!u.password_digest.empty() && factor_enabled(a, "password"))
        out.push_back(json::object{{"strategy", "password"}});
    for (std::string_view kind :
         {"email_code", "email_link", "phone_code", "reset_password_email_code", "reset_password_phone_code"}) {
        if (!factor_enabled(a, kind)) continue;
        bool const email = is_email_strategy(kind);
        std::string const& primary = email ? u.primary_email_address_id : u.primary_phone_number_id;
        for (auto const& i : u.identifications) {
            if (i.kind != kind_of(kind) || i.verification.status != "verified") continue;
            out.push_back(code_factor(kind, i, i.id == primary));
        }
    }
    if (domain::passkeys::enabled(a) && !domain::passkeys::passkeys_json(u).empty())  // issue 14
        out.push_back(json::object{{"strategy", "passkey"}});
    for (auto const& strategy : domain::web3::enabled_strategies(a))  // issue 14: each proven wallet
        for (auto const& i : u.identifications) {
            if (i.kind != "web3_wallet" || i.verification.status != "verified") continue;
            out.push_back(json::object{{"strategy", strategy},
                                       {"web3_wallet_id", i.id},
                                       {"safe_identifier", i.value},
                                       {"primary", i.id == u.primary_web3_wallet_id}});
        }
    return out;
}

json::array supported_identifiers(app const& a) {
    json::array out;
    if (a.cfg.email_address.enabled && a.cfg.email_address.used_for_first_factor) out.push_back("email_address");
    if (a.cfg.phone_number.enabled && a.cfg.phone_number.used_for_first_factor) out.push_back("phone_number");
    if (a.cfg.username.enabled) out.push_back("username");
    return out;
}

/// The identifier normalized the way the user indexes keep it (email lowercase, phone E.164), and the user
/// it names, if any.
struct resolved {
    std::string normalized;
    std::optional<std::string> user_id;
};

store::result<resolved> resolve(store::read_txn const& t, std::string_view identifier) {
    resolved out;
    out.normalized = std::string(identifier);
    if (identifier.find('@') != std::string_view::npos) {
        auto e = normalize_email(identifier);
        if (!e) return out;
        out.normalized = *e;
        auto r = t.users().id_by_email(*e);
        if (!r) return r.error();
        out.user_id = std::move(*r);
        return out;
    }
    if (identifier.size() == 42 && identifier.starts_with("0x")) {  // issue 14: a web3 wallet address
        if (auto w = domain::web3::normalize_address(identifier)) {
            std::string key = *w;
            for (auto& ch : key) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            auto r = t.users().id_by_phone(key);  // proven wallets share the phone index (store/rules.hpp)
            if (!r) return r.error();
            out.normalized = *w;
            out.user_id = std::move(*r);
            return out;
        }
    }
    if (!identifier.empty() &&
        (identifier.front() == '+' || std::isdigit(static_cast<unsigned char>(identifier.front())))) {
        if (auto p = normalize_phone(identifier)) {
            auto r = t.users().id_by_phone(*p);
            if (!r) return r.error();
            if (*r) {
                out.normalized = *p;
                out.user_id = std::move(*r);
                return out;
            }
        }
    }
    auto r = t.users().id_by_username(identifier);
    if (!r) return r.error();
    out.user_id = std::move(*r);
    return out;
}

/// A password verified outside any txn, against `digest`.
struct password_check {
    std::string digest;
    bool ok = false;
    std::string rehashed;  ///< a fresh argon2id digest when the stored one uses outdated parameters
};

password_check check_password(std::string_view password, std::string const& digest) {
    password_check c;
    c.digest = digest;
    auto r = crypto::verify_password(password, digest);
    if (!r) log::warn("password_verify_failed", {{"error", r.error().message()}});
    c.ok = r && *r;
    if (c.ok && crypto::needs_rehash(digest))
        if (auto h = crypto::hash_password(password)) c.rehashed = std::move(*h);
    return c;
}

/// user_banned / user_locked (meta.lockout_expires_in_seconds; null for an admin lock without end). The lock is
/// the one the user views show (views::lockout_of).
std::optional<api_error> user_blocked(app const& a, store::user_record const& u, std::int64_t now) {
    if (u.banned) return make_error(code::user_banned);
    auto const lock = lockout_now(a, u, now);
    if (lock.locked) {
        auto e = make_error(code::user_locked);
        if (lock.expires_in_seconds)
            e.meta["lockout_expires_in_seconds"] = *lock.expires_in_seconds;
        else
            e.meta["lockout_expires_in_seconds"] = nullptr;
        return e;
    }
    return std::nullopt;
}

/// Applies a password check to the sign-in's user inside the write txn: counts a failure, or records the
/// verified first factor (and the rehash).
api_result<void> apply_password(app const& a, request_ctx const& ctx, store::sign_in_record& si, store::user_record& u,
                                password_check check, std::string_view password) {
    if (u.password_digest.empty()) return param_error(code::strategy_for_user_invalid, "strategy");
    if (check.digest != u.password_digest) check = check_password(password, u.password_digest);  // changed meanwhile
    si.first_factor = {};
    si.first_factor.strategy = "password";
    if (!check.ok) {
        si.first_factor.status = "unverified";
        si.first_factor.attempts = 1;
        count_failure(a, ctx, u);
        return param_error(code::form_password_incorrect, "password");
    }
    if (!check.rehashed.empty()) u.password_digest = std::move(check.rehashed);
    si.first_factor.status = "verified";
    si.first_factor.verified_at = ctx.now;
    return {};
}

/// First factor passed: the second-factor gate, or a new active session on the client (which start_session
/// writes together with the user).
api_result<void> complete(app& a, request_ctx& ctx, store::write_txn& w, store::sign_in_record& si,
                          store::user_record& u, store::client_record& client) {
    u.failed_attempts = 0;
    u.lockout_expires_at = 0;
    u.updated_at = ctx.now;
    if (u.two_factor_enabled && !domain::supported_second_factors(a, u).empty()) {
        si.status = "needs_second_factor";
        return {};
    }
    auto s = start_session(a, ctx, w, client, u);
    if (!s) return s.error();
    si.status = "complete";
    si.created_session_id = s->id;
    return {};
}

/// Starts a one-time code for `strategy` to `target_id` (or, when empty, the identification the sign-in
/// was started with, else the primary one). The target must be a verified identification of the user.
api_result<void> prepare_factor(app& a, request_ctx const& ctx, store::write_txn& w, store::sign_in_record& si,
                                store::user_record const& u, std::string_view strategy, std::string_view target_id) {
    bool const email = is_email_strategy(strategy);
    std::string want(target_id);
    if (want.empty()) {
        for (auto const& i : u.identifications)
            if (i.id == si.identification_id && i.kind == kind_of(strategy)) want = i.id;
        if (want.empty()) want = email ? u.primary_email_address_id : u.primary_phone_number_id;
    }
    for (auto const& i : u.identifications) {
        if (i.id != want || i.kind != kind_of(strategy) || i.verification.status != "verified") continue;
        if (strategy == email_links::strategy) {  // issue 14: a link instead of a code
            auto redirect = email_links::checked_redirect(a, ctx);
            if (!redirect) return redirect.error();
            return email_links::prepare(a, ctx, w, si.first_factor, si.id, i.id, i.value, std::move(*redirect), u.id);
        }
        return prepare_code(a, ctx, w, si.first_factor, strategy, email ? "email" : "sms", i.value, i.id, u.id);
    }
    auto const* param = email ? "email_address_id" : "phone_number_id";
    if (target_id.empty()) return param_error(code::strategy_for_user_invalid, "strategy");
    return param_error(code::form_param_value_invalid, param,
                       std::string(param) + " does not belong to this account or is not verified.");
}

struct loaded {
    store::client_record client;
    store::sign_in_record sign_in;
    std::optional<store::user_record> user;
};

/// The request's sign-in (404 unless it belongs to this browser's client) and its user.
api_result<loaded> load(app& a, request_ctx const& ctx, store::read_txn const& t) {
    auto owned = load_owned_attempt(
        a, ctx, t, "sign_in_id", [&](store::read_txn const& tx, std::string_view id) { return tx.sign_ins().get(id); },
        "get_sign_in");
    if (!owned) return owned.error();
    loaded l{std::move(owned->first), std::move(owned->second), std::nullopt};
    if (!l.sign_in.user_id.empty()) {
        auto u = t.users().get(l.sign_in.user_id);
        if (!u) return store_failure(u.error(), "get_user");
        l.user = std::move(*u);
    }
    return l;
}

/// The sign-in is at `status` and its user may sign in (not banned or locked).
std::optional<api_error> ready(app const& a, request_ctx const& ctx, loaded const& l, std::string_view status) {
    if (l.sign_in.status != status || !l.user) return make_error(code::sign_in_not_ready);
    if (l.sign_in.abandon_at != 0 && ctx.now > l.sign_in.abandon_at) return make_error(code::sign_in_not_ready);
    return user_blocked(a, *l.user, ctx.now);
}

/// A read-only look at the sign-in before the write: gates and what the step needs to know up front.
api_result<loaded> peek(app& a, request_ctx const& ctx, std::string_view status) {
    auto r = txn::read(a, "sign_in",
                       [&](store::read_txn& t) -> store::result<api_result<loaded>> { return load(a, ctx, t); });
    if (!r) return r.error();
    if (auto bad = ready(a, ctx, *r, status)) return *bad;
    return std::move(*r);
}

/// peek() at a sign-in that needs its first factor, then the per-account limit on its user.
api_result<loaded> peek_first_factor(app& a, request_ctx const& ctx) {
    auto seen = peek(a, ctx, "needs_first_factor");
    if (!seen) return seen.error();
    if (auto limited = limit_identifier(a, ctx, seen->sign_in.user_id)) return *limited;
    return seen;
}

/// A first-factor strategy given, known (password or a code) and enabled on the instance.
std::optional<api_error> check_first_factor_strategy(app const& a, std::string_view strategy) {
    if (strategy.empty()) return param_error(code::form_param_missing, "strategy");
    if (strategy != "password" && !is_code_strategy(strategy))
        return param_error(code::form_param_value_invalid, "strategy");
    if (!factor_enabled(a, strategy)) return param_error(code::strategy_for_user_invalid, "strategy");
    return std::nullopt;
}

/// A step's reply staged in the step's own write txn after its writes (the sign-in and the client the envelope
/// shows), so nothing is read again once the txn commits.
store::result<void> stage_sign_in(app& a, request_ctx const& ctx, store::read_txn const& t,
                                  store::sign_in_record const& si, std::optional<staged_reply>& out) {
    auto c = snapshot_current_client(a, ctx, t);
    if (!c) return c.error();
    out.emplace(staged_reply{sign_in_json(a, t, si), std::move(*c)});
    return {};
}

/// Writes the step's sign-in and, when the step succeeded, stages its reply; answers the step's outcome.
store::result<api_result<void>> put_and_stage(app& a, request_ctx const& ctx, store::write_txn& tx,
                                              store::sign_in_record const& si, api_result<void> outcome,
                                              std::optional<staged_reply>& staged) {
    if (auto r = tx.sign_ins().put(si); !r) return r.error();
    if (outcome)
        if (auto r = stage_sign_in(a, ctx, tx, si, staged); !r) return r.error();
    return outcome;
}

/// The envelope of a staged reply (no txn). Every step that succeeds stages one.
api_result<reply> respond(app& a, request_ctx& ctx, std::optional<staged_reply> const& staged) {
    if (!staged) return make_error(code::internal_clerk_error);
    return envelope(a, ctx, *staged);
}

/// Runs `step` on the stored sign-in (at `status`) and its user in one write txn. Sign-in and user are
/// persisted even when the step answers with a client error (attempt counters, lockouts); a server error
/// aborts the txn. Replies through the envelope.
template <class Step>
api_result<reply> mutate(app& a, request_ctx& ctx, std::string_view status, Step step) {
    std::optional<staged_reply> staged;
    auto w = txn::write<void>(a, "sign_in", txn::on_client_error::commit,
                              [&](store::write_txn& tx) -> store::result<api_result<void>> {
                                  auto l = load(a, ctx, tx);
                                  if (!l) return api_result<void>(l.error());
                                  if (auto bad = ready(a, ctx, *l, status)) return api_result<void>(*bad);
                                  store::user_record const before = *l->user;
                                  api_result<void> outcome = step(tx, *l);
                                  // A completed step wrote the user through start_session already.
                                  if (l->sign_in.status != "complete")
                                      if (auto r = tx.users().put(*l->user, &before); !r) return r.error();
                                  l->sign_in.updated_at = ctx.now;
                                  return put_and_stage(a, ctx, tx, l->sign_in, std::move(outcome), staged);
                              });
    if (!w) return w.error();
    return respond(a, ctx, staged);
}

/// Revokes every live session of the user (password reset with sign_out_of_other_sessions).
api_result<void> revoke_sessions(app& a, request_ctx const& ctx, store::write_txn& w, std::string const& user_id) {
    if (auto e = domain::end_user_sessions(a, w, user_id, ctx.now, "revoked"); !e)
        return store_failure(e.error(), "end_user_sessions");
    return {};
}

/// A new password for reset_password / a reset-code attempt that carries one: policy, then the digest.
api_result<std::string> new_password_digest(app const& a, std::string_view password) {
    if (password.empty()) return param_error(code::form_param_missing, "password");
    if (auto bad = check_password_policy(a, password)) return *bad;
    auto digest = crypto::hash_password(password);
    if (!digest) return make_error(code::internal_clerk_error);
    return std::move(*digest);
}

}  // namespace

void count_failure(app const& a, request_ctx const& ctx, store::user_record& u) {
    ++u.failed_attempts;
    if (u.failed_attempts >= static_cast<std::int32_t>(a.cfg.protection.max_attempts)) {
        u.lockout_expires_at = ctx.now + a.cfg.protection.lockout.count() * 1000;
        u.failed_attempts = 0;
    }
    u.updated_at = ctx.now;
}

json::value factor_verification(store::verification_record const& v, bool unattempted_password_null) {
    if (v.status.empty()) return nullptr;
    json::object o;
    o["status"] = v.status;
    o["strategy"] = v.strategy;
    bool const password = v.strategy == "password";
    o["attempts"] =
        password && unattempted_password_null && v.attempts == 0 ? json::value(nullptr) : json::value(v.attempts);
    o["expire_at"] = v.expire_at == 0 ? json::value(nullptr) : json::value(v.expire_at);
    if (v.strategy == "email_link")  // issue 14: the client that opened the link (clerk-js compares it with its own)
        o["verified_at_client"] =
            v.verified_at_client.empty() ? json::value(nullptr) : json::value(v.verified_at_client);
    // issue 14: passkeys answer the WebAuthn request options in `nonce`, web3 wallets sign the `message`
    if (!v.nonce.empty()) o[domain::web3::is_strategy(v.strategy) ? "message" : "nonce"] = v.nonce;
    return o;
}

std::string safe_identifier(std::string_view kind, std::string_view value) {
    if (kind == "email_address") {  // "j***@x.com"
        auto at = value.find('@');
        if (at == std::string_view::npos || at == 0) return "***";
        return std::string(1, value.front()) + "***" + std::string(value.substr(at));
    }
    // "+1*******99": country prefix and the last two digits.
    if (value.size() <= 4) return "***";
    return std::string(value.substr(0, 2)) + std::string(value.size() - 4, '*') +
           std::string(value.substr(value.size() - 2));
}

json::object code_factor(std::string_view strategy, store::identification_record const& i, bool primary) {
    json::object f;
    f["strategy"] = strategy;
    f["safe_identifier"] = safe_identifier(i.kind, i.value);
    f[i.kind == "email_address" ? "email_address_id" : "phone_number_id"] = i.id;
    f["primary"] = primary;
    return f;
}

json::object sign_in_json(app& a, store::read_txn const& t, store::sign_in_record const& s) {
    json::object o;
    o["object"] = "sign_in_attempt";
    o["id"] = s.id;
    o["status"] = s.status;
    o["supported_identifiers"] = supported_identifiers(a);
    o["identifier"] = s.identifier.empty() ? json::value(nullptr) : json::value(s.identifier);
    json::value factors = nullptr;
    json::value second_factors = nullptr;
    json::value user_data = nullptr;
    if (!s.user_id.empty()) {
        auto u = t.users().get(s.user_id);
        if (u && *u) {
            auto const& user = **u;
            factors = supported_first_factors(a, user);
            if (s.status == "needs_second_factor") second_factors = domain::supported_second_factors(a, user);
            json::object ud;
            ud["first_name"] = user.first_name.empty() ? json::value(nullptr) : json::value(user.first_name);
            ud["last_name"] = user.last_name.empty() ? json::value(nullptr) : json::value(user.last_name);
            ud["image_url"] = user.image_url.empty() ? std::string(views::default_image_url()) : user.image_url;
            ud["has_image"] = !user.image_url.empty();
            user_data = std::move(ud);
        }
    }
    o["supported_first_factors"] = std::move(factors);
    o["supported_second_factors"] = std::move(second_factors);
    o["first_factor_verification"] = s.oauth.strategy.empty() ? factor_verification(s.first_factor)
                                                              : federation::verification_json(s.oauth, s.first_factor);
    o["second_factor_verification"] = factor_verification(s.second_factor);
    o["user_data"] = std::move(user_data);
    o["created_session_id"] = s.created_session_id.empty() ? json::value(nullptr) : json::value(s.created_session_id);
    o["abandon_at"] = s.abandon_at;
    return o;
}

/// Stores a new sign-in `si` as the client's current attempt (creating the client when there is none) and replies
/// with it, from what the write read.
/// `then` (issue 15: a posted ID token settles the attempt in the same txn) runs after the puts; its refusal
/// aborts the whole write.
static api_result<reply> start_attempt(
    app& a, request_ctx& ctx, store::sign_in_record& si,
    std::function<store::result<api_result<void>>(store::write_txn&)> const& then = {}) {
    std::optional<staged_reply> staged;
    auto w = txn::write<void>(a, "create_sign_in", then ? txn::on_client_error::abort : txn::on_client_error::commit,
                              [&](store::write_txn& tx) -> store::result<api_result<void>> {
                                  auto c = ensure_client(a, ctx, tx);
                                  if (!c) return api_result<void>(c.error());
                                  si.client_id = c->id;
                                  c->sign_in_id = si.id;
                                  c->updated_at = ctx.now;
                                  if (auto r = tx.clients().put(*c); !r) return r.error();
                                  if (auto r = tx.sign_ins().put(si); !r) return r.error();
                                  if (then) {
                                      auto r = then(tx);
                                      if (!r || !*r) return r;
                                  }
                                  if (auto r = stage_sign_in(a, ctx, tx, si, staged); !r) return r.error();
                                  return api_result<void>();
                              });
    if (!w) return w.error();
    return respond(a, ctx, staged);
}

/// `strategy: oauth_*`: a sign-in waiting for the provider (first factor unverified with the provider's URL).
static api_result<reply> create_oauth_sign_in(app& a, request_ctx& ctx, std::string const& strategy) {
    store::sign_in_record si;
    si.id = crypto::new_id("sia");
    si.status = "needs_first_factor";
    si.created_at = si.updated_at = ctx.now;
    si.abandon_at = ctx.now + attempt_lifetime_ms;
    if (saml_sso::is_strategy(strategy)) {  // enterprise SSO (issue 15): the IdP of the identifier's domain
        si.identifier = field(ctx, "identifier").value_or("");
        if (auto started = saml_sso::start(a, ctx, strategy, si.identifier, si.id, si.oauth); !started)
            return started.error();
    } else if (auto started = federation::start(a, ctx, strategy, si.id, si.oauth); !started) {
        return started.error();
    }
    si.first_factor = si.oauth.verification;
    return start_attempt(a, ctx, si);
}

/// `strategy: google_one_tap | oauth_token_<provider>` (issue 15): the posted ID token is the first factor,
/// verified before the write and settled in it (federation/id_tokens.cpp).
static api_result<reply> create_token_sign_in(app& a, request_ctx& ctx, std::string const& strategy) {
    store::sign_in_record si;
    auto who = federation::verify_posted_token(a, ctx, strategy, si.oauth);
    if (!who) return who.error();
    si.id = crypto::new_id("sia");
    si.status = "needs_first_factor";
    si.created_at = si.updated_at = ctx.now;
    si.abandon_at = ctx.now + attempt_lifetime_ms;
    si.first_factor = si.oauth.verification;
    return start_attempt(a, ctx, si,
                         [&](store::write_txn& tx) { return federation::settle_token_sign_in(a, ctx, tx, si, *who); });
}

// ---- passkeys (issue 14): the `passkey` first factor, including the discoverable flow ----

/// A passkey first factor passed: a session now, unless the instance wants the second factor after a passkey.
static api_result<void> complete_passkey(app& a, request_ctx& ctx, store::write_txn& w, store::sign_in_record& si,
                                         store::user_record& u, store::client_record& client) {
    if (!a.cfg.passkeys.satisfies_second_factor) return complete(a, ctx, w, si, u, client);
    u.failed_attempts = 0;
    u.lockout_expires_at = 0;
    u.updated_at = ctx.now;
    auto s = start_session(a, ctx, w, client, u);
    if (!s) return s.error();
    si.status = "complete";
    si.created_session_id = s->id;
    return {};
}

/// `POST /v1/client/sign_ins` with `strategy=passkey` and no identifier: the request options come back at once
/// (no allowed credentials: the authenticator offers its discoverable ones, and the answer names its user).
static api_result<reply> create_passkey_sign_in(app& a, request_ctx& ctx) {
    if (!domain::passkeys::enabled(a)) return param_error(code::strategy_for_user_invalid, "strategy");
    store::sign_in_record si;
    si.id = crypto::new_id("sia");
    si.status = "needs_first_factor";
    si.created_at = si.updated_at = ctx.now;
    si.abandon_at = ctx.now + attempt_lifetime_ms;
    domain::passkeys::start_assertion(a, nullptr, si.first_factor, ctx.now);
    return start_attempt(a, ctx, si);
}

/// `prepare_first_factor` `strategy=passkey`: request options allowing the user's credentials.
static api_result<reply> prepare_passkey_first_factor(app& a, request_ctx& ctx) {
    if (!domain::passkeys::enabled(a)) return param_error(code::strategy_for_user_invalid, "strategy");
    return mutate(a, ctx, "needs_first_factor", [&](store::write_txn&, loaded& l) -> api_result<void> {
        if (domain::passkeys::passkeys_json(*l.user).empty())
            return param_error(code::strategy_for_user_invalid, "strategy");
        domain::passkeys::start_assertion(a, &*l.user, l.sign_in.first_factor, ctx.now);
        return {};
    });
}

/// `attempt_first_factor` `strategy=passkey&public_key_credential=<JSON>`: the assertion, checked against the
/// sign-in's challenge (single use: a refused assertion spends it). A discoverable sign-in learns its user from
/// the credential's userHandle.
static api_result<reply> attempt_passkey_first_factor(app& a, request_ctx& ctx) {
    if (!domain::passkeys::enabled(a)) return param_error(code::strategy_for_user_invalid, "strategy");
    auto const credential = field(ctx, "public_key_credential").value_or("");
    if (credential.empty()) return param_error(code::form_param_missing, "public_key_credential");
    auto const named = domain::passkeys::assertion_user(credential);  // a malformed credential stops here
    if (!named) return named.error();
    std::string const& handle = *named;
    std::optional<staged_reply> staged;
    auto w = txn::write<void>(
        a, "sign_in", txn::on_client_error::commit, [&](store::write_txn& tx) -> store::result<api_result<void>> {
            auto l = load(a, ctx, tx);
            if (!l) return api_result<void>(l.error());
            auto& si = l->sign_in;
            if (si.status != "needs_first_factor" || (si.abandon_at != 0 && ctx.now > si.abandon_at))
                return api_result<void>(make_error(code::sign_in_not_ready));
            if (si.first_factor.strategy != "passkey" || si.first_factor.nonce.empty())
                return api_result<void>(make_error(code::verification_not_sent));
            auto refuse = [&](api_error e) -> store::result<api_result<void>> {
                si.first_factor.nonce.clear();  // the challenge is spent
                si.first_factor.status = "failed";
                si.updated_at = ctx.now;
                if (auto r = tx.sign_ins().put(si); !r) return r.error();
                return api_result<void>(std::move(e));
            };
            if (!l->user) {
                if (handle.empty()) return refuse(make_error(code::passkey_not_found));
                auto u = tx.users().get(handle);
                if (!u) return u.error();
                if (!*u) return refuse(make_error(code::passkey_not_found));
                l->user = std::move(**u);
            }
            auto& u = *l->user;
            if (auto blocked = user_blocked(a, u, ctx.now)) return refuse(*blocked);
            for (auto const& sid : l->client.session_ids) {
                auto s = tx.sessions().get(sid);
                if (!s) return s.error();
                if (*s && (*s)->user_id == u.id && views::session_live(**s, ctx.now)) {
                    auto e = make_error(code::identifier_already_signed_in);
                    e.meta["session_id"] = sid;
                    return refuse(std::move(e));
                }
            }
            store::user_record const before = u;
            api_result<void> outcome = domain::passkeys::finish_assertion(a, si.first_factor, u, credential, ctx.now);
            if (outcome) {
                si.user_id = u.id;
                outcome = complete_passkey(a, ctx, tx, si, u, l->client);
                // A completed sign-in wrote the user through start_session already.
                if (si.status != "complete")
                    if (auto r = tx.users().put(u, &before); !r) return r.error();
            }
            si.updated_at = ctx.now;
            return put_and_stage(a, ctx, tx, si, std::move(outcome), staged);
        });
    if (!w) return w.error();
    return respond(a, ctx, staged);
}

// ---- web3 wallets (issue 14): `web3_*_signature` first factors over a proven wallet ----

/// `prepare_first_factor` `strategy=web3_*&web3_wallet_id=`: the message to sign (the sign-in's wallet by default).
static api_result<reply> prepare_web3_first_factor(app& a, request_ctx& ctx, std::string const& strategy) {
    if (!factor_enabled(a, strategy)) return param_error(code::strategy_for_user_invalid, "strategy");
    auto const wallet_id = field(ctx, "web3_wallet_id").value_or("");
    return mutate(a, ctx, "needs_first_factor", [&](store::write_txn&, loaded& l) -> api_result<void> {
        std::string const want = !wallet_id.empty()                     ? wallet_id
                                 : !l.sign_in.identification_id.empty() ? l.sign_in.identification_id
                                                                        : l.user->primary_web3_wallet_id;
        for (auto const& i : l.user->identifications) {
            if (i.id != want || i.kind != "web3_wallet" || i.verification.status != "verified") continue;
            domain::web3::prepare(a, l.sign_in.first_factor, strategy, i.value, ctx.now);
            l.sign_in.first_factor.target_id = i.id;
            return {};
        }
        return param_error(code::form_param_value_invalid, "web3_wallet_id");
    });
}

/// `attempt_first_factor` `strategy=web3_*&signature=0x...`: the wallet's EIP-191 signature of the message.
static api_result<reply> attempt_web3_first_factor(app& a, request_ctx& ctx, std::string const& strategy) {
    if (!factor_enabled(a, strategy)) return param_error(code::strategy_for_user_invalid, "strategy");
    auto const signature = field(ctx, "signature").value_or("");
    if (signature.empty()) return param_error(code::form_param_missing, "signature");
    return mutate(a, ctx, "needs_first_factor", [&](store::write_txn& tx, loaded& l) -> api_result<void> {
        auto& si = l.sign_in;
        if (si.first_factor.strategy != strategy) return make_error(code::verification_not_sent);
        for (auto const& i : l.user->identifications) {
            if (i.id != si.first_factor.target_id || i.kind != "web3_wallet") continue;
            if (auto ok = domain::web3::check(si.first_factor, i.value, signature, ctx.now); !ok) return ok;
            return complete(a, ctx, tx, si, *l.user, l.client);
        }
        return make_error(code::verification_not_sent);
    });
}

// ---- tickets (issue 14): `strategy: ticket` with a sign-in token, an actor token or an organization invitation ----

/// `strategy: ticket`: the ticket is the first factor. A sign-in token signs its user in (a second factor, when
/// the user has one, is still owed, as after any first factor); an actor token starts a session whose `actor` is
/// set, capped at the token's session_max_duration, with no second factor (the operator cannot hold the user's);
/// an organization invitation signs in the invited address's account and joins it. The ticket is spent in the
/// same write as the session; any error writes nothing.
static api_result<reply> create_ticket_sign_in(app& a, request_ctx& ctx) {
    auto const ticket = field(ctx, "ticket").value_or("");
    auto found = txn::read<domain::found_ticket>(
        a, "sign_in_ticket", [&](store::read_txn& t) { return domain::find_ticket(a, t, ticket, ctx.now); });
    if (!found) return found.error();
    using kind = domain::ticket_kind;
    if (found->kind == kind::invitation || found->kind == kind::waitlist_invitation)
        return param_error(code::invitation_can_be_used_only_in_sign_up, "ticket");
    store::sign_in_record si;
    si.id = crypto::new_id("sia");
    si.status = "needs_first_factor";
    si.created_at = si.updated_at = ctx.now;
    si.abandon_at = ctx.now + attempt_lifetime_ms;
    si.first_factor.strategy = "ticket";
    si.first_factor.status = "verified";
    si.first_factor.verified_at = ctx.now;
    std::optional<staged_reply> staged;
    auto w = txn::write<void>(
        a, "create_sign_in_ticket", txn::on_client_error::abort,
        [&](store::write_txn& tx) -> store::result<api_result<void>> {
            using out = api_result<void>;
            auto c = ensure_client(a, ctx, tx);
            if (!c) return out(c.error());
            std::string user_id;
            std::optional<store::ticket_record> spent;
            if (found->ticket) {
                auto r = domain::redeem_ticket(tx, found->ticket->id, ctx.now);
                if (!r) return out(r.error());
                spent = std::move(*r);
                user_id = spent->user_id;
            } else {
                auto id = tx.users().id_by_email(found->email());
                if (!id) return id.error();
                if (!*id) return out(param_error(code::form_identifier_not_found, "identifier"));
                user_id = **id;
            }
            auto u = tx.users().get(user_id);
            if (!u) return u.error();
            if (!*u) return out(param_error(code::form_identifier_not_found, "identifier"));
            store::user_record& user = **u;
            bool const impersonation = spent && spent->kind == "actor_token";
            if (!impersonation)
                if (auto blocked = user_blocked(a, user, ctx.now)) return out(*blocked);
            for (auto const& id : c->session_ids) {
                auto s = tx.sessions().get(id);
                if (!s) return s.error();
                if (*s && (*s)->user_id == user.id && views::session_live(**s, ctx.now) && !impersonation) {
                    auto e = make_error(code::identifier_already_signed_in);
                    e.meta["session_id"] = id;
                    return out(e);
                }
            }
            if (found->org_invitation)
                if (auto joined = orgs::join_by_invitation(a, tx, found->org_invitation->id, user.id, ctx.now); !joined)
                    return out(joined.error());
            si.client_id = c->id;
            si.user_id = user.id;
            si.identifier = found->email();
            si.identification_id = user.primary_email_address_id;
            c->sign_in_id = si.id;
            c->updated_at = ctx.now;
            out outcome;
            store::user_record const before = user;
            if (impersonation) {
                auto s = start_session(a, ctx, tx, *c, user);
                if (!s) return out(s.error());
                s->actor = spent->actor;
                s->status = "active";  // the operator owes no MFA setup of the user's
                std::int64_t const cap = ctx.now + spent->session_max_duration_s * 1000;
                s->expire_at = std::min(s->expire_at, cap);
                s->abandon_at = std::min(s->abandon_at, cap);
                if (auto r = tx.sessions().put(*s); !r) return r.error();
                si.status = "complete";
                si.created_session_id = s->id;
            } else {
                outcome = complete(a, ctx, tx, si, user, *c);
                if (outcome && si.status == "complete" && spent && !spent->organization_id.empty()) {
                    auto s = tx.sessions().get(si.created_session_id);
                    if (!s) return s.error();
                    if (*s) {
                        auto sel = orgs::select_organization(a, tx, **s, spent->organization_id);
                        if (!sel) return out(sel.error());
                        if (auto r = tx.sessions().put(**s); !r) return r.error();
                    }
                }
            }
            if (!outcome) return outcome;
            if (si.status != "complete") {
                if (auto r = tx.users().put(user, &before); !r) return r.error();
                if (auto r = tx.clients().put(*c); !r) return r.error();
            }
            return put_and_stage(a, ctx, tx, si, std::move(outcome), staged);
        });
    if (!w) return w.error();
    return respond(a, ctx, staged);
}

api_result<reply> create_sign_in(app& a, request_ctx& ctx) {
    auto const identifier = field(ctx, "identifier").value_or("");
    auto const strategy = field(ctx, "strategy").value_or("");
    auto const password = field(ctx, "password").value_or("");
    if (auto limited = limit_ip(a, ctx, "create")) return *limited;
    if (identifier.size() > 320) return param_error(code::form_param_max_length_exceeded, "identifier");
    if (federation::is_token_strategy(strategy))  // issue 15: a posted ID token (One Tap, native apps)
        return create_token_sign_in(a, ctx, strategy);
    if (strategy.starts_with("oauth_") || saml_sso::is_strategy(strategy))  // issue 15: the provider round trip
        return create_oauth_sign_in(a, ctx, strategy);
    if (strategy == "passkey" && identifier.empty())  // issue 14: the discoverable flow
        return create_passkey_sign_in(a, ctx);
    if (strategy == "ticket")  // issue 14: sign-in tokens, actor tokens, organization invitations
        return create_ticket_sign_in(a, ctx);
    if (!strategy.empty() && strategy != "password" && !is_code_strategy(strategy))
        return param_error(code::form_param_value_invalid, "strategy",
                           "strategy must be password, email_code, phone_code, reset_password_email_code or "
                           "reset_password_phone_code.");
    if (!strategy.empty() && identifier.empty()) return param_error(code::form_param_missing, "identifier");
    if (!strategy.empty() && !factor_enabled(a, strategy))
        return param_error(code::strategy_for_user_invalid, "strategy");
    bool const one_step = strategy == "password" && !password.empty();

    // Before the write: who is it, and (one-step password) is the password right. An unknown identifier
    // spends the same time on a dummy digest.
    resolved who;
    std::string digest;  // one-step password: the digest to check, read with the identifier (one txn)
    if (!identifier.empty()) {
        auto r = txn::read(a, "resolve_identifier", [&](store::read_txn& t) -> store::result<resolved> {
            auto found = resolve(t, identifier);
            if (!found || !one_step || !found->user_id) return found;
            auto u = t.users().get(*found->user_id);
            if (u && *u && !user_blocked(a, **u, ctx.now)) digest = (*u)->password_digest;
            return found;
        });
        if (!r) return r.error();
        who = std::move(*r);
        if (auto limited = limit_identifier(a, ctx, who.user_id.value_or(who.normalized))) return *limited;
    }
    std::optional<password_check> checked;
    if (one_step) {
        if (digest.empty())
            (void)crypto::verify_password(password, dummy_digest);
        else
            checked = check_password(password, digest);
    }

    store::sign_in_record si;
    si.id = crypto::new_id("sia");
    si.identifier = identifier.empty() ? std::string{} : who.normalized;
    si.status = identifier.empty() ? "needs_identifier" : "needs_first_factor";
    si.created_at = si.updated_at = ctx.now;
    si.abandon_at = ctx.now + attempt_lifetime_ms;

    std::optional<staged_reply> staged;
    auto w = txn::write<void>(
        a, "create_sign_in", txn::on_client_error::commit,
        [&](store::write_txn& tx) -> store::result<api_result<void>> {
            auto c = ensure_client(a, ctx, tx);
            if (!c) return api_result<void>(c.error());
            if (a.cfg.single_session_mode) {
                for (auto const& id : c->session_ids) {
                    auto s = tx.sessions().get(id);
                    if (!s) return s.error();
                    if (*s && views::session_live(**s, ctx.now))
                        return api_result<void>(make_error(code::session_exists));
                }
            }
            si.client_id = c->id;
            std::optional<store::user_record> user;
            if (!identifier.empty()) {
                // Resolved again inside the write: the account may have changed since the look above.
                auto again = resolve(tx, identifier);
                if (!again) return again.error();
                if (!again->user_id)
                    return api_result<void>(param_error(code::form_identifier_not_found, "identifier"));
                auto u = tx.users().get(*again->user_id);
                if (!u) return u.error();
                if (!*u) return api_result<void>(param_error(code::form_identifier_not_found, "identifier"));
                user = std::move(**u);
                if (auto blocked = user_blocked(a, *user, ctx.now)) return api_result<void>(*blocked);
                for (auto const& id : c->session_ids) {
                    auto s = tx.sessions().get(id);
                    if (!s) return s.error();
                    if (*s && (*s)->user_id == user->id && views::session_live(**s, ctx.now)) {
                        auto e = make_error(code::identifier_already_signed_in);
                        e.meta["session_id"] = id;
                        return api_result<void>(e);
                    }
                }
                si.user_id = user->id;
                for (auto const& i : user->identifications)
                    if (i.value == again->normalized) si.identification_id = i.id;
            }
            c->sign_in_id = si.id;
            c->updated_at = ctx.now;

            api_result<void> outcome;
            store::user_record const before = user ? *user : store::user_record{};
            if (user && one_step) {
                outcome = apply_password(a, ctx, si, *user, checked.value_or(password_check{}), password);
                if (outcome) outcome = complete(a, ctx, tx, si, *user, *c);
            } else if (user && is_code_strategy(strategy)) {
                // create with a code strategy prepares it right away (the reset-password custom flow relies on it).
                outcome = prepare_factor(a, ctx, tx, si, *user, strategy, {});
            }
            if (si.status != "complete") {
                if (user)
                    if (auto r = tx.users().put(*user, &before); !r) return r.error();
                if (auto r = tx.clients().put(*c); !r) return r.error();
            }
            return put_and_stage(a, ctx, tx, si, std::move(outcome), staged);
        });
    if (!w) return w.error();
    return respond(a, ctx, staged);
}

api_result<reply> get_sign_in(app& a, request_ctx& ctx) {
    auto r = txn::read(a, "get_sign_in", [&](store::read_txn& t) -> store::result<api_result<json::object>> {
        auto l = load(a, ctx, t);
        if (!l) return api_result<json::object>(l.error());
        return api_result<json::object>(sign_in_json(a, t, l->sign_in));
    });
    if (!r) return r.error();
    return envelope(a, ctx, std::move(*r));
}

/// `strategy: enterprise_sso` on prepare_first_factor (clerk-js's authenticateWithRedirect after create): a fresh
/// AuthnRequest to the IdP of the sign-in's identifier (issue 15).
static api_result<reply> prepare_saml_first_factor(app& a, request_ctx& ctx, std::string const& strategy) {
    auto r = txn::read(a, "sign_in",
                       [&](store::read_txn& t) -> store::result<api_result<loaded>> { return load(a, ctx, t); });
    if (!r) return r.error();
    auto const id = r->sign_in.id;
    if (r->sign_in.status != "needs_first_factor" && r->sign_in.status != "needs_identifier")
        return make_error(code::sign_in_not_ready);
    store::oauth_flow_record flow;
    if (auto started = saml_sso::start(a, ctx, strategy, r->sign_in.identifier, id, flow); !started)
        return started.error();
    std::optional<staged_reply> staged;
    auto w = txn::write<void>(a, "sign_in", txn::on_client_error::abort,
                              [&](store::write_txn& tx) -> store::result<api_result<void>> {
                                  auto l = load(a, ctx, tx);
                                  if (!l) return api_result<void>(l.error());
                                  if (l->sign_in.id != id) return api_result<void>(make_error(code::sign_in_not_ready));
                                  l->sign_in.oauth = flow;
                                  l->sign_in.first_factor = flow.verification;
                                  l->sign_in.status = "needs_first_factor";
                                  l->sign_in.updated_at = ctx.now;
                                  return put_and_stage(a, ctx, tx, l->sign_in, {}, staged);
                              });
    if (!w) return w.error();
    return respond(a, ctx, staged);
}

namespace {

/// The start both first-factor steps share: the per-IP limit of `step` ("prepare"/"attempt"), a passkey or a web3
/// wallet to its own step (`passkey()`, `web3()`; issue 14), any other strategy checked against the instance. An
/// answer ends the step; nullopt: the code, link and password strategies go on in the caller.
template <class Passkey, class Web3>
std::optional<api_result<reply>> start_first_factor(app& a, request_ctx& ctx, std::string_view step,
                                                    std::string const& strategy, Passkey&& passkey, Web3&& web3) {
    if (auto limited = limit_ip(a, ctx, step)) return api_result<reply>(std::move(*limited));
    if (strategy == "passkey") return passkey();
    if (domain::web3::is_strategy(strategy)) return web3();
    if (auto bad = check_first_factor_strategy(a, strategy)) return api_result<reply>(std::move(*bad));
    return std::nullopt;
}

}  // namespace

api_result<reply> prepare_first_factor(app& a, request_ctx& ctx) {
    auto const strategy = field(ctx, "strategy").value_or("");
    if (saml_sso::is_strategy(strategy)) return prepare_saml_first_factor(a, ctx, strategy);
    if (auto answered = start_first_factor(
            a, ctx, "prepare", strategy, [&] { return prepare_passkey_first_factor(a, ctx); },
            [&] { return prepare_web3_first_factor(a, ctx, strategy); }))
        return std::move(*answered);
    auto const target = field(ctx, is_email_strategy(strategy) ? "email_address_id" : "phone_number_id").value_or("");
    // Each prepare sends a message: the per-account limit keeps it from being used to flood an inbox.
    auto seen = peek_first_factor(a, ctx);
    if (!seen) return seen.error();
    return mutate(a, ctx, "needs_first_factor", [&](store::write_txn& tx, loaded& l) -> api_result<void> {
        if (strategy == "password") {
            if (l.user->password_digest.empty()) return param_error(code::strategy_for_user_invalid, "strategy");
            l.sign_in.first_factor = {};
            l.sign_in.first_factor.status = "unverified";
            l.sign_in.first_factor.strategy = "password";
            return {};
        }
        return prepare_factor(a, ctx, tx, l.sign_in, *l.user, strategy, target);
    });
}

api_result<reply> attempt_first_factor(app& a, request_ctx& ctx) {
    auto const strategy = field(ctx, "strategy").value_or("");
    auto const password = field(ctx, "password").value_or("");
    auto const code_value = field(ctx, "code").value_or("");
    if (auto answered = start_first_factor(
            a, ctx, "attempt", strategy, [&] { return attempt_passkey_first_factor(a, ctx); },
            [&] { return attempt_web3_first_factor(a, ctx, strategy); }))
        return std::move(*answered);
    if (strategy == email_links::strategy)
        return param_error(code::form_param_value_invalid, "strategy", "An email link is verified by opening it.");
    if (strategy == "password" && password.empty()) return param_error(code::form_param_missing, "password");
    if (strategy != "password" && code_value.empty()) return param_error(code::form_param_missing, "code");

    auto seen = peek_first_factor(a, ctx);
    if (!seen) return seen.error();

    // The slow parts, before the write txn: the password check, or the new password of a reset attempt.
    std::optional<password_check> checked;
    std::string new_digest;
    if (strategy == "password") {
        if (seen->user->password_digest.empty()) return param_error(code::strategy_for_user_invalid, "strategy");
        checked = check_password(password, seen->user->password_digest);
    } else if (is_reset_strategy(strategy) && !password.empty()) {
        auto d = new_password_digest(a, password);
        if (!d) return d.error();
        new_digest = std::move(*d);
    }

    return mutate(a, ctx, "needs_first_factor", [&](store::write_txn& tx, loaded& l) -> api_result<void> {
        auto& si = l.sign_in;
        auto& u = *l.user;
        if (strategy == "password") {
            if (auto ok = apply_password(a, ctx, si, u, *checked, password); !ok) return ok;
            return complete(a, ctx, tx, si, u, l.client);
        }
        if (si.first_factor.strategy != strategy) return make_error(code::verification_not_sent);
        auto ok = attempt_code(a, ctx, si.first_factor, code_value);
        if (!ok) {
            if (ok.error().code == code::form_code_incorrect || ok.error().code == code::verification_failed)
                count_failure(a, ctx, u);
            return ok;
        }
        if (is_reset_strategy(strategy)) {
            if (new_digest.empty()) {
                si.status = "needs_new_password";
                return {};
            }
            u.password_digest = new_digest;
            u.password_last_updated_at = ctx.now;
        }
        return complete(a, ctx, tx, si, u, l.client);
    });
}

api_result<reply> reset_password(app& a, request_ctx& ctx) {
    auto const password = field(ctx, "password").value_or("");
    bool const sign_out_others = field(ctx, "sign_out_of_other_sessions").value_or("") == "true";
    if (auto limited = limit_ip(a, ctx, "reset")) return *limited;
    // Only a sign-in whose reset code was verified may set a password; check before spending a hash.
    if (auto seen = peek(a, ctx, "needs_new_password"); !seen) return seen.error();
    auto digest = new_password_digest(a, password);
    if (!digest) return digest.error();
    return mutate(a, ctx, "needs_new_password", [&](store::write_txn& tx, loaded& l) -> api_result<void> {
        auto& u = *l.user;
        u.password_digest = *digest;
        u.password_last_updated_at = ctx.now;
        if (sign_out_others)
            if (auto r = revoke_sessions(a, ctx, tx, u.id); !r) return r;
        return complete(a, ctx, tx, l.sign_in, u, l.client);
    });
}

// ---- second factors (issue 14): totp, backup_code, phone_code ----

namespace {

/// A second-factor strategy given and one the sign-in's user can use (domain::supported_second_factors).
std::optional<api_error> check_second_factor_strategy(app const& a, store::user_record const& u,
                                                      std::string_view strategy) {
    if (strategy.empty()) return param_error(code::form_param_missing, "strategy");
    if (strategy != "totp" && strategy != "backup_code" && strategy != "phone_code")
        return param_error(code::form_param_value_invalid, "strategy");
    for (auto const& f : domain::supported_second_factors(a, u))
        if (f.as_object().at("strategy").as_string() == strategy) return std::nullopt;
    return param_error(code::strategy_for_user_invalid, "strategy");
}

/// The second factor passed: the session starts with its second-factor time (the fva claim's second value).
api_result<void> complete_second_factor(app& a, request_ctx& ctx, store::write_txn& w, loaded& l) {
    auto& si = l.sign_in;
    auto& u = *l.user;
    si.second_factor.status = "verified";
    si.second_factor.verified_at = ctx.now;
    u.failed_attempts = 0;
    u.lockout_expires_at = 0;
    u.updated_at = ctx.now;
    auto s = start_session(a, ctx, w, l.client, u, ctx.now);
    if (!s) return s.error();
    si.status = "complete";
    si.created_session_id = s->id;
    return {};
}

/// A wrong second factor: counted towards the user's lockout like a wrong first factor.
api_error wrong_second_factor(app const& a, request_ctx const& ctx, loaded& l, std::string_view strategy) {
    auto& v = l.sign_in.second_factor;
    if (v.strategy != strategy) {
        v = {};
        v.strategy = std::string(strategy);
    }
    v.status = "unverified";
    ++v.attempts;
    count_failure(a, ctx, *l.user);
    return param_error(code::form_code_incorrect, "code");
}

/// The gates of a second-factor step (`action`: prepare, attempt), in Clerk's order: the per-IP limit, the sign-in at
/// needs_second_factor offering `strategy`, the field `required` when named, the per-account limit.
std::optional<api_error> second_factor_gates(app& a, request_ctx const& ctx, std::string_view action,
                                             std::string_view strategy, std::string_view required = {}) {
    if (auto limited = limit_ip(a, ctx, action)) return limited;
    auto seen = peek(a, ctx, "needs_second_factor");
    if (!seen) return seen.error();
    if (auto bad = check_second_factor_strategy(a, *seen->user, strategy)) return bad;
    if (!required.empty() && field(ctx, required).value_or("").empty())
        return param_error(code::form_param_missing, required);
    return limit_identifier(a, ctx, seen->sign_in.user_id);
}

}  // namespace

api_result<reply> prepare_second_factor(app& a, request_ctx& ctx) {
    auto const strategy = field(ctx, "strategy").value_or("");
    auto const phone_id = field(ctx, "phone_number_id").value_or("");
    if (auto refused = second_factor_gates(a, ctx, "prepare", strategy)) return *refused;
    return mutate(a, ctx, "needs_second_factor", [&](store::write_txn& tx, loaded& l) -> api_result<void> {
        auto& si = l.sign_in;
        if (strategy != "phone_code") {
            // TOTP and backup codes need nothing sent: the verification only names the strategy.
            si.second_factor = {};
            si.second_factor.status = "unverified";
            si.second_factor.strategy = strategy;
            return {};
        }
        auto const* phone = domain::second_factor_phone(*l.user, phone_id);
        if (phone == nullptr)
            return param_error(code::form_param_value_invalid, "phone_number_id",
                               "phone_number_id is not a phone number reserved for second factors on this account.");
        si.second_factor = {};
        return prepare_code(a, ctx, tx, si.second_factor, "phone_code", "sms", phone->value, phone->id, l.user->id);
    });
}

api_result<reply> attempt_second_factor(app& a, request_ctx& ctx) {
    auto const strategy = field(ctx, "strategy").value_or("");
    auto const code_value = field(ctx, "code").value_or("");
    if (auto refused = second_factor_gates(a, ctx, "attempt", strategy, "code")) return *refused;
    if (!a.inst.seal_key) return make_error(code::internal_clerk_error);
    return mutate(a, ctx, "needs_second_factor", [&](store::write_txn& tx, loaded& l) -> api_result<void> {
        auto& si = l.sign_in;
        auto& u = *l.user;
        if (strategy == "totp") {
            if (!domain::check_totp(u, *a.inst.seal_key, code_value, ctx.now))
                return wrong_second_factor(a, ctx, l, strategy);
        } else if (strategy == "backup_code") {
            if (!domain::use_backup_code(u, a.inst.code_key, code_value, ctx.now))
                return wrong_second_factor(a, ctx, l, strategy);
        } else {
            if (si.second_factor.strategy != "phone_code") return make_error(code::verification_not_sent);
            auto ok = attempt_code(a, ctx, si.second_factor, code_value);
            if (!ok) {
                if (ok.error().code == code::form_code_incorrect || ok.error().code == code::verification_failed)
                    count_failure(a, ctx, u);
                return ok;
            }
        }
        si.second_factor.strategy = strategy;
        return complete_second_factor(a, ctx, tx, l);
    });
}

}  // namespace latchkey::server::api::frontend

namespace latchkey::server::api::email_links {

api_result<void> complete_sign_in(app& a, request_ctx& ctx, store::write_txn& w, store::sign_in_record& si) {
    auto u = w.users().get(si.user_id);
    if (!u) return frontend::store_failure(u.error(), "get_user");
    if (!*u) return make_error(code::resource_not_found);
    if (auto bad = frontend::user_blocked(a, **u, ctx.now)) return *bad;
    auto c = w.clients().get(si.client_id);
    if (!c) return frontend::store_failure(c.error(), "get_client");
    if (!*c) return make_error(code::resource_not_found);
    store::user_record const before = **u;
    if (auto r = frontend::complete(a, ctx, w, si, **u, **c); !r) return r;
    if (si.status != "complete")  // otherwise start_session wrote the user
        if (auto r = w.users().put(**u, &before); !r) return frontend::store_failure(r.error(), "put_user");
    return {};
}

}  // namespace latchkey::server::api::email_links
