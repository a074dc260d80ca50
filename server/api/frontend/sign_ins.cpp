// Sign-ins: identify, first factor (password, email/phone code, password-reset codes), reset password,
// second-factor gate. Failed attempts count towards the user lockout; auth endpoints are rate limited.
#include "server/api/frontend/handlers.hpp"

#include "crypto/password.hpp"
#include "crypto/random.hpp"
#include "server/api/frontend/flow.hpp"
#include "server/api/views.hpp"

#include <boost/json/serialize.hpp>

namespace latchkey::server::api::frontend {

namespace json = boost::json;

namespace {

std::string mask_email(std::string_view e) {
    auto at = e.find('@');
    if (at == std::string_view::npos || at == 0) return std::string(e);
    std::string out(1, e.front());
    out += "***";
    out += e.substr(at);
    return out;
}

std::string mask_phone(std::string_view p) {
    if (p.size() <= 4) return std::string(p);
    return std::string(p.substr(0, 2)) + std::string(p.size() - 4, '*') + std::string(p.substr(p.size() - 2));
}

bool factor_enabled(app const& a, std::string_view f) {
    for (auto const& x : a.cfg.first_factors)
        if (x == f) return true;
    return false;
}

json::array supported_first_factors(app const& a, store::user_record const& u) {
    json::array out;
    if (!u.password_digest.empty() && factor_enabled(a, "password")) out.push_back(json::object{{"strategy", "password"}});
    for (auto const& kind : {"email_code", "phone_code", "reset_password_email_code", "reset_password_phone_code"}) {
        std::string_view k(kind);
        if (!factor_enabled(a, k)) continue;
        bool email = k.find("email") != std::string_view::npos;
        for (auto const& i : u.identifications) {
            if (i.kind != (email ? "email_address" : "phone_number")) continue;
            if (i.verification.status != "verified") continue;
            json::object f;
            f["strategy"] = kind;
            f["safe_identifier"] = email ? mask_email(i.value) : mask_phone(i.value);
            f[email ? "email_address_id" : "phone_number_id"] = i.id;
            f["primary"] = i.id == (email ? u.primary_email_address_id : u.primary_phone_number_id);
            out.push_back(std::move(f));
        }
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

/// Resolves an identifier (email, phone or username) to a user id and the matching identification.
store::result<std::optional<std::string>> resolve(app& a, store::txn const& t, std::string const& identifier) {
    if (identifier.find('@') != std::string::npos) {
        auto e = normalize_email(identifier);
        if (!e) return std::optional<std::string>{};
        return a.db.user_id_by_email(t, *e);
    }
    if (!identifier.empty() && (identifier.front() == '+' || std::isdigit(static_cast<unsigned char>(identifier.front())))) {
        if (auto p = normalize_phone(identifier)) {
            auto r = a.db.user_id_by_phone(t, *p);
            if (!r || *r) return r;
        }
    }
    return a.db.user_id_by_username(t, identifier);
}

std::string const& dummy_digest() {
    static std::string const d = [] {
        auto h = crypto::hash_password("latchkey-timing-equaliser");
        return h ? *h : std::string{};
    }();
    return d;
}

/// Registers a failed first-factor attempt; locks the user once max_attempts is reached.
void count_failure(app const& a, request_ctx const& ctx, store::user_record& u) {
    ++u.failed_attempts;
    if (u.failed_attempts >= static_cast<std::int32_t>(a.cfg.protection.max_attempts)) {
        u.lockout_expires_at = ctx.now + a.cfg.protection.lockout.count() * 1000;
        u.failed_attempts = 0;
    }
    u.updated_at = ctx.now;
}

/// First factor passed: second-factor gate, or a new active session.
api_result<void> complete(app& a, request_ctx& ctx, store::write_txn& w, store::sign_in_record& si,
                          store::user_record& u, store::client_record& client) {
    u.failed_attempts = 0;
    u.lockout_expires_at = 0;
    if (u.two_factor_enabled) {
        si.status = "needs_second_factor";
        store::user_record prev = u;
        if (auto r = a.db.put_user(w, u, &prev); !r) return store_failure(r.error(), "put_user");
        return {};
    }
    auto s = start_session(a, ctx, w, client, u);  // writes the user too
    if (!s) return s.error();
    si.status = "complete";
    si.created_session_id = s->id;
    return {};
}

/// Checks a password for the sign-in's user; rehashes on success when the stored hash is outdated.
api_result<void> check_password(app const& a, request_ctx const& ctx, store::user_record& u, std::string_view pw) {
    if (pw.empty()) return param_error(code::form_param_missing, "password");
    if (u.password_digest.empty()) return param_error(code::strategy_for_user_invalid, "strategy");
    auto ok = crypto::verify_password(pw, u.password_digest);
    if (!ok || !*ok) {
        count_failure(a, ctx, u);
        return param_error(code::form_password_incorrect, "password");
    }
    if (crypto::needs_rehash(u.password_digest))
        if (auto h = crypto::hash_password(pw)) u.password_digest = std::move(*h);
    return {};
}

struct loaded {
    store::client_record client;
    store::sign_in_record sign_in;
    std::optional<store::user_record> user;
};

api_result<loaded> load(app& a, request_ctx const& ctx, store::txn const& t) {
    auto c = current_client(a, ctx, t);
    if (!c) return make_error(code::resource_not_found);
    auto s = a.db.get_sign_in(t, ctx.params.get("sign_in_id"));
    if (!s) return store_failure(s.error(), "get_sign_in");
    if (!*s || (*s)->client_id != c->id) return make_error(code::resource_not_found);
    loaded l{std::move(*c), std::move(**s), std::nullopt};
    if (!l.sign_in.user_id.empty()) {
        auto u = a.db.get_user(t, l.sign_in.user_id);
        if (!u) return store_failure(u.error(), "get_user");
        l.user = std::move(*u);
    }
    return l;
}

/// Runs `step` on the stored sign-in (and its user) in one write txn; persists sign-in and user even when
/// the step fails (attempt counters, lockouts), then replies through the envelope.
template <class Step>
api_result<reply> mutate(app& a, request_ctx& ctx, Step step) {
    std::string id;
    auto w = a.db.with_write([&](store::write_txn& tx) -> store::result<api_result<void>> {
        auto l = load(a, ctx, tx);
        if (!l) return api_result<void>(l.error());
        if (l->sign_in.status == "complete" || l->sign_in.status == "abandoned")
            return api_result<void>(make_error(code::sign_in_not_ready));
        if (!l->user) return api_result<void>(make_error(code::sign_in_not_ready));
        if (auto blocked = flow::user_blocked(a, *l->user, ctx.now)) return api_result<void>(*blocked);
        store::user_record before = *l->user;
        api_result<void> outcome = step(tx, *l);
        if (l->sign_in.status != "complete") {
            // complete() already wrote the user through start_session.
            if (auto r = a.db.put_user(tx, *l->user, &before); !r) return r.error();
        }
        l->sign_in.updated_at = ctx.now;
        if (auto r = a.db.put_sign_in(tx, l->sign_in); !r) return r.error();
        id = l->sign_in.id;
        return outcome;
    });
    if (!w) return store_failure(w.error(), "sign_in");
    if (!*w) return w->error();
    auto body = a.db.with_read([&](store::read_txn& t) -> store::result<std::optional<json::object>> {
        auto s = a.db.get_sign_in(t, id);
        if (!s) return s.error();
        if (!*s) return std::optional<json::object>{};
        return std::optional<json::object>{sign_in_json(a, t, **s)};
    });
    if (!body) return store_failure(body.error(), "sign_in_json");
    if (!*body) return make_error(code::internal_clerk_error);
    return envelope(a, ctx, std::move(**body));
}

}  // namespace

json::object sign_in_json(app& a, store::txn const& t, store::sign_in_record const& s) {
    json::object o;
    o["object"] = "sign_in";
    o["id"] = s.id;
    o["status"] = s.status;
    o["supported_identifiers"] = supported_identifiers(a);
    o["identifier"] = s.identifier.empty() ? json::value(nullptr) : json::value(s.identifier);
    json::value factors = nullptr;
    json::value user_data = nullptr;
    if (!s.user_id.empty()) {
        auto u = a.db.get_user(t, s.user_id);
        if (u && *u) {
            factors = supported_first_factors(a, **u);
            json::object ud;
            ud["first_name"] = (*u)->first_name.empty() ? json::value(nullptr) : json::value((*u)->first_name);
            ud["last_name"] = (*u)->last_name.empty() ? json::value(nullptr) : json::value((*u)->last_name);
            ud["image_url"] = (*u)->image_url.empty() ? std::string("https://img.clerk.com/default") : (*u)->image_url;
            ud["has_image"] = !(*u)->image_url.empty();
            user_data = std::move(ud);
        }
    }
    o["supported_first_factors"] = std::move(factors);
    o["supported_second_factors"] = s.status == "needs_second_factor" ? json::value(json::array{}) : json::value(nullptr);
    o["first_factor_verification"] = views::verification(s.first_factor);
    o["second_factor_verification"] = views::verification(s.second_factor);
    o["user_data"] = std::move(user_data);
    o["created_session_id"] = s.created_session_id.empty() ? json::value(nullptr) : json::value(s.created_session_id);
    o["abandon_at"] = s.abandon_at;
    o["locale"] = nullptr;
    return o;
}

api_result<reply> create_sign_in(app& a, request_ctx& ctx) {
    auto identifier = field(ctx, "identifier").value_or("");
    auto strategy = field(ctx, "strategy").value_or("");
    auto password = field(ctx, "password").value_or("");
    if (identifier.size() > 320) return param_error(code::form_param_max_length_exceeded, "identifier");
    if (auto limited = flow::rate_limit(a, ctx, "sign_in", identifier)) return *limited;
    if (!strategy.empty() && strategy != "password" && strategy != "email_code" && strategy != "phone_code" &&
        strategy != "reset_password_email_code" && strategy != "reset_password_phone_code")
        return param_error(code::form_param_value_invalid, "strategy");

    store::sign_in_record si;
    si.id = crypto::new_id("sia");
    si.identifier = identifier;
    si.status = identifier.empty() ? "needs_identifier" : "needs_first_factor";
    si.created_at = si.updated_at = ctx.now;
    si.abandon_at = ctx.now + 24LL * 3600 * 1000;

    bool dummy_check = false;
    auto w = a.db.with_write([&](store::write_txn& tx) -> store::result<api_result<void>> {
        auto c = ensure_client(a, ctx, tx);
        if (!c) return api_result<void>(c.error());
        if (a.cfg.single_session_mode && flow::client_has_live_session(a, tx, *c, ctx.now))
            return api_result<void>(make_error(code::session_exists));
        si.client_id = c->id;
        std::optional<store::user_record> user;
        if (!identifier.empty()) {
            auto uid = resolve(a, tx, identifier);
            if (!uid) return uid.error();
            if (!*uid) {
                dummy_check = !password.empty();
                return api_result<void>(param_error(code::form_identifier_not_found, "identifier"));
            }
            auto u = a.db.get_user(tx, **uid);
            if (!u) return u.error();
            if (!*u) return api_result<void>(param_error(code::form_identifier_not_found, "identifier"));
            user = std::move(**u);
            if (auto blocked = flow::user_blocked(a, *user, ctx.now)) return api_result<void>(*blocked);
            if (auto existing = flow::live_session_of_user(a, tx, *c, user->id, ctx.now); !existing.empty()) {
                auto e = make_error(code::identifier_already_signed_in);
                e.meta["session_id"] = existing;
                return api_result<void>(e);
            }
            si.user_id = user->id;
            for (auto const& i : user->identifications)
                if (i.value == identifier || i.value == normalize_email(identifier).value_or("")) si.identification_id = i.id;
        }
        c->sign_in_id = si.id;
        c->updated_at = ctx.now;
        api_result<void> outcome;
        if (user && strategy == "password" && !password.empty()) {
            store::user_record before = *user;
            si.first_factor.strategy = "password";
            outcome = check_password(a, ctx, *user, password);
            if (outcome) {
                si.first_factor.status = "verified";
                si.first_factor.verified_at = ctx.now;
                outcome = complete(a, ctx, tx, si, *user, *c);
            } else {
                si.first_factor.status = "failed";
                if (auto r = a.db.put_user(tx, *user, &before); !r) return r.error();
            }
        }
        if (si.status != "complete")
            if (auto r = a.db.put_client(tx, *c); !r) return r.error();
        if (auto r = a.db.put_sign_in(tx, si); !r) return r.error();
        return outcome;
    });
    // Unknown identifier with a password: spend the same time a real check would (no account oracle).
    if (dummy_check) (void)crypto::verify_password(password, dummy_digest());
    if (!w) return store_failure(w.error(), "create_sign_in");
    if (!*w) return w->error();
    auto body = a.db.with_read([&](store::read_txn& t) -> store::result<json::object> { return sign_in_json(a, t, si); });
    if (!body) return store_failure(body.error(), "sign_in_json");
    return envelope(a, ctx, std::move(*body));
}

api_result<reply> get_sign_in(app& a, request_ctx& ctx) {
    auto r = a.db.with_read([&](store::read_txn& t) -> store::result<api_result<json::object>> {
        auto l = load(a, ctx, t);
        if (!l) return api_result<json::object>(l.error());
        return api_result<json::object>(sign_in_json(a, t, l->sign_in));
    });
    if (!r) return store_failure(r.error(), "get_sign_in");
    if (!*r) return r->error();
    return envelope(a, ctx, std::move(**r));
}

api_result<reply> prepare_first_factor(app& a, request_ctx& ctx) {
    auto strategy = field(ctx, "strategy").value_or("");
    if (strategy.empty()) return param_error(code::form_param_missing, "strategy");
    if (auto limited = flow::rate_limit(a, ctx, "verify")) return *limited;
    bool const email = strategy == "email_code" || strategy == "reset_password_email_code";
    bool const phone = strategy == "phone_code" || strategy == "reset_password_phone_code";
    if (strategy != "password" && !email && !phone) return param_error(code::form_param_value_invalid, "strategy");
    if (!factor_enabled(a, strategy)) return param_error(code::strategy_for_user_invalid, "strategy");
    std::string const id_param = email ? "email_address_id" : "phone_number_id";
    auto target = field(ctx, id_param).value_or("");
    return mutate(a, ctx, [&](store::write_txn&, loaded& l) -> api_result<void> {
        auto& u = *l.user;
        if (strategy == "password") {
            if (u.password_digest.empty()) return param_error(code::strategy_for_user_invalid, "strategy");
            l.sign_in.first_factor = {};
            l.sign_in.first_factor.status = "unverified";
            l.sign_in.first_factor.strategy = "password";
            return {};
        }
        std::string const& primary = email ? u.primary_email_address_id : u.primary_phone_number_id;
        std::string const want = target.empty() ? primary : target;
        for (auto const& i : u.identifications) {
            if (i.id != want || i.kind != (email ? "email_address" : "phone_number")) continue;
            prepare_code(a, ctx, l.sign_in.first_factor, strategy, email ? "email" : "sms", i.value, i.id);
            return {};
        }
        return param_error(code::form_param_value_invalid, id_param);
    });
}

api_result<reply> attempt_first_factor(app& a, request_ctx& ctx) {
    auto strategy = field(ctx, "strategy").value_or("");
    if (strategy.empty()) return param_error(code::form_param_missing, "strategy");
    auto const* id = ctx.params.get("sign_in_id").data();
    if (auto limited = flow::rate_limit(a, ctx, "attempt", id)) return *limited;
    return mutate(a, ctx, [&](store::write_txn& tx, loaded& l) -> api_result<void> {
        auto& si = l.sign_in;
        auto& u = *l.user;
        if (strategy == "password") {
            if (!factor_enabled(a, "password")) return param_error(code::strategy_for_user_invalid, "strategy");
            si.first_factor.strategy = "password";
            auto ok = check_password(a, ctx, u, field(ctx, "password").value_or(""));
            if (!ok) {
                si.first_factor.status = "failed";
                return ok;
            }
            si.first_factor.status = "verified";
            si.first_factor.verified_at = ctx.now;
            return complete(a, ctx, tx, si, u, l.client);
        }
        if (si.first_factor.strategy != strategy) return make_error(code::verification_not_sent);
        auto code_value = field(ctx, "code").value_or("");
        if (code_value.empty()) return param_error(code::form_param_missing, "code");
        auto ok = attempt_code(a, ctx, si.first_factor, code_value);
        if (!ok) {
            if (ok.error().code == "form_code_incorrect" || ok.error().code == "verification_failed") count_failure(a, ctx, u);
            return ok;
        }
        if (strategy.starts_with("reset_password_")) {
            si.status = "needs_new_password";
            return {};
        }
        return complete(a, ctx, tx, si, u, l.client);
    });
}

api_result<reply> reset_password(app& a, request_ctx& ctx) {
    auto password = field(ctx, "password").value_or("");
    if (password.empty()) return param_error(code::form_param_missing, "password");
    if (auto bad = check_password_policy(a, password)) return *bad;
    auto digest = crypto::hash_password(password);
    if (!digest) return make_error(code::internal_clerk_error);
    bool const sign_out_others = field(ctx, "sign_out_of_other_sessions").value_or("") == "true";
    return mutate(a, ctx, [&](store::write_txn& tx, loaded& l) -> api_result<void> {
        if (l.sign_in.status != "needs_new_password") return make_error(code::sign_in_not_ready);
        auto& u = *l.user;
        u.password_digest = *digest;
        u.password_last_updated_at = ctx.now;
        if (sign_out_others) {
            auto sessions = a.db.sessions_of_user(tx, u.id);
            if (!sessions) return store_failure(sessions.error(), "sessions_of_user");
            for (auto s : *sessions) {
                if (!views::session_live(s, ctx.now)) continue;
                s.status = "revoked";
                s.updated_at = ctx.now;
                if (auto r = a.db.put_session(tx, s); !r) return store_failure(r.error(), "put_session");
                a.tokens.erase(s.id);
            }
        }
        return complete(a, ctx, tx, l.sign_in, u, l.client);
    });
}

api_result<reply> prepare_second_factor(app& a, request_ctx& ctx) {
    (void)a;
    (void)ctx;
    // No second-factor strategy (TOTP, SMS, backup codes) is offered by this instance yet.
    return param_error(code::strategy_for_user_invalid, "strategy", "No second factor is available for this account.");
}

api_result<reply> attempt_second_factor(app& a, request_ctx& ctx) { return prepare_second_factor(a, ctx); }

}  // namespace latchkey::server::api::frontend
