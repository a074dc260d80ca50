// Session reverification (step-up, issue 14): POST /v1/client/sessions/{id}/verify starts one at a level
// (first_factor, second_factor, multi_factor), and prepare/attempt first and second factor complete it. A passed
// factor moves the session's first_factor_at / second_factor_at, so the fva claim and factor_verification_age
// become fresh ([0,0] or [0,-1]); the session's cached token is dropped after the commit so the next touch shows
// a token with the new fva. The state lives on the session record (verification_*), one reverification at a time.
//
// Levels fall back as the FAPI spec says: second_factor and multi_factor without a second factor on the account
// become first_factor.
#include "server/api/frontend/handlers.hpp"

#include "crypto/password.hpp"
#include "server/api/domain/mfa.hpp"
#include "server/api/domain/sessions.hpp"
#include "server/api/frontend/attempts.hpp"
#include "server/api/frontend/common.hpp"
#include "server/api/txn.hpp"
#include "server/api/views.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <array>
#include <span>
#include <string>
#include <string_view>

namespace latchkey::server::api::frontend {

namespace json = boost::json;

namespace {

bool first_factor_enabled(app const& a, std::string_view f) {
    for (auto const& x : a.cfg.first_factors)
        if (x == f) return true;
    return false;
}

json::array first_factors(app const& a, store::user_record const& u) {
    json::array out;
    if (!u.password_digest.empty()) out.push_back(json::object{{"strategy", "password"}});
    for (auto const& i : u.identifications) {
        if (i.verification.status != "verified") continue;
        bool const email = i.kind == "email_address";
        std::string_view const strategy = email ? "email_code" : "phone_code";
        if (!first_factor_enabled(a, strategy)) continue;
        out.push_back(
            code_factor(strategy, i, i.id == (email ? u.primary_email_address_id : u.primary_phone_number_id)));
    }
    return out;
}

bool has_second_factor(app const& a, store::user_record const& u) {
    return u.two_factor_enabled && !domain::supported_second_factors(a, u).empty();
}

/// The request's session (this client's, live) and its user.
struct target {
    store::client_record client;
    store::session_record session;
    store::user_record user;
};

api_result<target> load_target(request_ctx const& ctx, store::read_txn const& t) {
    auto c = current_client(ctx, t);
    if (!c) return make_error(code::authentication_invalid);
    auto s = t.sessions().get(ctx.params.get("session_id"));
    if (!s) return store_failure(s.error(), "get_session");
    if (!*s || (*s)->client_id != c->id) return make_error(code::resource_not_found);
    if (!views::session_live(**s, ctx.now)) return make_error(code::session_not_active);
    auto u = t.users().get((*s)->user_id);
    if (!u) return store_failure(u.error(), "get_user");
    if (!*u) return make_error(code::authentication_invalid);
    return target{std::move(*c), std::move(**s), std::move(**u)};
}

/// The reverification as its write left it: the target (session and user) and the client the envelope shows,
/// read in that txn after its writes.
struct staged_target {
    target tg;
    client_snapshot client;
};

api_result<staged_target> stage(app& a, request_ctx const& ctx, store::read_txn const& t, target tg) {
    auto c = stage_client(a, ctx, t);
    if (!c) return c.error();
    return staged_target{std::move(tg), std::move(*c)};
}

/// The session_reverification object and the envelope, from what the write staged: no txn (the session's token
/// is minted here, outside it).
api_result<reply> respond(app& a, request_ctx& ctx, staged_target const& st) {
    auto const& s = st.tg.session;
    json::object o;
    o["object"] = "session_reverification";
    o["level"] = s.verification_level;
    o["status"] = s.verification_status;
    o["supported_first_factors"] = first_factors(a, st.tg.user);
    o["supported_second_factors"] = domain::supported_second_factors(a, st.tg.user);
    o["first_factor_verification"] = factor_verification(s.verification_first, false);
    o["second_factor_verification"] = factor_verification(s.verification_second, false);
    auto sj = session_json(a, ctx, s, st.tg.user, st.tg.client.updated_at);
    if (!sj) return sj.error();
    o["session"] = std::move(*sj);
    return envelope(a, ctx, std::move(o), st.client);
}

/// Runs `step(write_txn&, target&)` on the session's reverification at `status` and writes session and user
/// (attempt counters and lockouts land with a wrong code). Replies with the reverification.
template <class Step>
api_result<reply> mutate(app& a, request_ctx& ctx, std::string_view status, Step step) {
    auto w = txn::write<staged_target>(a, "reverification", txn::on_client_error::commit,
                                       [&](store::write_txn& tx) -> api_result<staged_target> {
                                           auto tg = load_target(ctx, tx);
                                           if (!tg) return tg.error();
                                           if (tg->session.verification_status != status)
                                               return make_error(code::verification_not_sent);
                                           if (auto lock = lockout_now(a, tg->user, ctx.now); lock.locked)
                                               return make_error(code::user_locked);
                                           store::user_record const before = tg->user;
                                           auto outcome = step(tx, *tg);
                                           tg->session.updated_at = ctx.now;
                                           if (auto r = tx.sessions().put(tg->session); !r)
                                               return store_failure(r.error(), "put_session");
                                           if (auto r = tx.users().put(tg->user, &before); !r)
                                               return store_failure(r.error(), "put_user");
                                           // The session's cached token carries the old fva: the next touch mints a new
                                           // one.
                                           domain::drop_tokens_after_commit(a, tx, {tg->session.id});
                                           if (!outcome) return outcome.error();
                                           return stage(a, ctx, tx, std::move(*tg));
                                       });
    if (!w) return w.error();
    return respond(a, ctx, *w);
}

api_error wrong(app const& a, request_ctx const& ctx, store::user_record& u, store::verification_record& v,
                std::string_view param) {
    ++v.attempts;
    count_failure(a, ctx, u);
    return param_error(param == "password" ? code::form_password_incorrect : code::form_code_incorrect, param);
}

/// First factor passed: the session's first-factor time moves; multi_factor goes on to the second factor.
void first_passed(app const& a, request_ctx const& ctx, target& tg) {
    auto& s = tg.session;
    s.verification_first.status = "verified";
    s.verification_first.verified_at = ctx.now;
    s.first_factor_at = ctx.now;
    tg.user.failed_attempts = 0;
    s.verification_status =
        s.verification_level == "multi_factor" && has_second_factor(a, tg.user) ? "needs_second_factor" : "complete";
}

/// The form's `strategy`, one of `allowed` for this step, with the field `required` (when named) given, within the
/// per-IP limit of `action` (prepare, attempt).
api_result<std::string> checked_strategy(app& a, request_ctx const& ctx, std::span<std::string_view const> allowed,
                                         std::string_view action, std::string_view required = {}) {
    auto strategy = field(ctx, "strategy").value_or("");
    if (strategy.empty()) return param_error(code::form_param_missing, "strategy");
    if (std::find(allowed.begin(), allowed.end(), strategy) == allowed.end())
        return param_error(code::form_param_value_invalid, "strategy");
    if (!required.empty() && field(ctx, required).value_or("").empty())
        return param_error(code::form_param_missing, required);
    if (auto limited = rate_limit_ip(a, ctx, "reverify", action)) return *limited;
    return strategy;
}

constexpr std::array<std::string_view, 3> first_factor_strategies{"email_code", "phone_code", "password"};
constexpr std::array<std::string_view, 3> second_factor_strategies{"phone_code", "totp", "backup_code"};

}  // namespace

api_result<reply> start_session_verification(app& a, request_ctx& ctx) {
    auto const level = field(ctx, "level").value_or("");
    if (level.empty()) return param_error(code::form_param_missing, "level");
    if (level != "first_factor" && level != "second_factor" && level != "multi_factor")
        return param_error(code::form_param_value_invalid, "level",
                           "level must be first_factor, second_factor or multi_factor.");
    auto w = txn::write<staged_target>(
        a, "start_reverification", txn::on_client_error::abort, [&](store::write_txn& tx) -> api_result<staged_target> {
            auto tg = load_target(ctx, tx);
            if (!tg) return tg.error();
            auto& s = tg->session;
            bool const second = has_second_factor(a, tg->user);
            s.verification_level = second ? level : "first_factor";
            s.verification_status =
                s.verification_level == "second_factor" ? "needs_second_factor" : "needs_first_factor";
            s.verification_first = {};
            s.verification_second = {};
            s.updated_at = ctx.now;
            if (auto r = tx.sessions().put(s); !r) return store_failure(r.error(), "put_session");
            return stage(a, ctx, tx, std::move(*tg));
        });
    if (!w) return w.error();
    return respond(a, ctx, *w);
}

api_result<reply> prepare_session_verification_first_factor(app& a, request_ctx& ctx) {
    auto const checked = checked_strategy(a, ctx, first_factor_strategies, "prepare");
    if (!checked) return checked.error();
    auto const& strategy = *checked;
    bool const email = strategy == "email_code";
    auto const target_id = field(ctx, email ? "email_address_id" : "phone_number_id").value_or("");
    return mutate(a, ctx, "needs_first_factor", [&](store::write_txn& tx, target& tg) -> api_result<void> {
        auto& v = tg.session.verification_first;
        if (strategy == "password") {
            if (tg.user.password_digest.empty()) return param_error(code::strategy_for_user_invalid, "strategy");
            v = {};
            v.status = "unverified";
            v.strategy = "password";
            return {};
        }
        if (!first_factor_enabled(a, strategy)) return param_error(code::strategy_for_user_invalid, "strategy");
        std::string const want = target_id.empty()
                                     ? (email ? tg.user.primary_email_address_id : tg.user.primary_phone_number_id)
                                     : target_id;
        for (auto const& i : tg.user.identifications) {
            if (i.id != want || i.kind != (email ? "email_address" : "phone_number") ||
                i.verification.status != "verified")
                continue;
            v = {};
            return prepare_code(a, ctx, tx, v, strategy, email ? "email" : "sms", i.value, i.id, tg.user.id);
        }
        return param_error(code::form_param_value_invalid, email ? "email_address_id" : "phone_number_id");
    });
}

api_result<reply> attempt_session_verification_first_factor(app& a, request_ctx& ctx) {
    auto const checked = checked_strategy(a, ctx, first_factor_strategies, "attempt");
    if (!checked) return checked.error();
    auto const& strategy = *checked;
    auto const secret = field(ctx, strategy == "password" ? "password" : "code").value_or("");
    if (secret.empty()) return param_error(code::form_param_missing, strategy == "password" ? "password" : "code");

    // A password is checked before the write (argon2 is slow); the write applies it only if it is still the digest.
    std::string checked_digest;
    bool password_ok = false;
    if (strategy == "password") {
        auto tg = txn::read<target>(a, "reverify_password", [&](store::read_txn& t) { return load_target(ctx, t); });
        if (!tg) return tg.error();
        if (tg->user.password_digest.empty()) return param_error(code::strategy_for_user_invalid, "strategy");
        checked_digest = tg->user.password_digest;
        auto r = crypto::verify_password(secret, checked_digest);
        password_ok = r && *r;
    }
    return mutate(a, ctx, "needs_first_factor", [&](store::write_txn&, target& tg) -> api_result<void> {
        auto& v = tg.session.verification_first;
        if (strategy == "password") {
            if (tg.user.password_digest.empty()) return param_error(code::strategy_for_user_invalid, "strategy");
            if (v.strategy != "password") {
                v = {};
                v.strategy = "password";
                v.status = "unverified";
            }
            if (!password_ok || tg.user.password_digest != checked_digest) return wrong(a, ctx, tg.user, v, "password");
            first_passed(a, ctx, tg);
            return {};
        }
        if (v.strategy != strategy) return make_error(code::verification_not_sent);
        auto ok = attempt_code(a, ctx, v, secret);
        if (!ok) {
            if (ok.error().code == code::form_code_incorrect) count_failure(a, ctx, tg.user);
            return ok;
        }
        first_passed(a, ctx, tg);
        return {};
    });
}

api_result<reply> prepare_session_verification_second_factor(app& a, request_ctx& ctx) {
    auto const checked = checked_strategy(a, ctx, second_factor_strategies, "prepare");
    if (!checked) return checked.error();
    auto const& strategy = *checked;
    auto const phone_id = field(ctx, "phone_number_id").value_or("");
    return mutate(a, ctx, "needs_second_factor", [&](store::write_txn& tx, target& tg) -> api_result<void> {
        auto& v = tg.session.verification_second;
        v = {};
        if (strategy != "phone_code") {
            v.status = "unverified";
            v.strategy = strategy;
            return {};
        }
        if (!domain::second_factor_enabled(a, "phone_code"))
            return param_error(code::strategy_for_user_invalid, "strategy");
        auto const* phone = domain::second_factor_phone(tg.user, phone_id);
        if (phone == nullptr) return param_error(code::form_param_value_invalid, "phone_number_id");
        return prepare_code(a, ctx, tx, v, "phone_code", "sms", phone->value, phone->id, tg.user.id);
    });
}

api_result<reply> attempt_session_verification_second_factor(app& a, request_ctx& ctx) {
    auto const code_value = field(ctx, "code").value_or("");
    auto const checked = checked_strategy(a, ctx, second_factor_strategies, "attempt", "code");
    if (!checked) return checked.error();
    auto const& strategy = *checked;
    if (!a.inst.seal_key) return make_error(code::internal_clerk_error);
    return mutate(a, ctx, "needs_second_factor", [&](store::write_txn&, target& tg) -> api_result<void> {
        bool offered = false;
        for (auto const& f : domain::supported_second_factors(a, tg.user))
            offered = offered || f.as_object().at("strategy").as_string() == strategy;
        if (!offered) return param_error(code::strategy_for_user_invalid, "strategy");
        auto& v = tg.session.verification_second;
        if (strategy == "phone_code") {
            if (v.strategy != "phone_code") return make_error(code::verification_not_sent);
            auto ok = attempt_code(a, ctx, v, code_value);
            if (!ok) {
                if (ok.error().code == code::form_code_incorrect) count_failure(a, ctx, tg.user);
                return ok;
            }
        } else {
            if (v.strategy != strategy) {
                v = {};
                v.strategy = strategy;
                v.status = "unverified";
            }
            bool const ok = strategy == "totp" ? domain::check_totp(tg.user, *a.inst.seal_key, code_value, ctx.now)
                                               : domain::use_backup_code(tg.user, a.inst.code_key, code_value, ctx.now);
            if (!ok) return wrong(a, ctx, tg.user, v, "code");
            v.status = "verified";
            v.verified_at = ctx.now;
        }
        tg.session.second_factor_at = ctx.now;
        tg.session.verification_status = "complete";
        tg.user.failed_attempts = 0;
        return {};
    });
}

}  // namespace latchkey::server::api::frontend
