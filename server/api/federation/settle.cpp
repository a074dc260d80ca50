// The end of a provider round trip (issue 15), shared by the OAuth callback (federation.cpp) and the SAML ACS
// (server/api/saml): the attempt the round trip answers is settled in the write txn, the way clerk-js's
// handleRedirectCallback reads it.
#include "server/api/federation/oauth2.hpp"

#include "crypto/ossl.hpp"
#include "server/api/app.hpp"
#include "server/api/domain/mfa.hpp"
#include "server/api/frontend/common.hpp"

namespace latchkey::server::api::federation {

store::result<api_result<void>> settle(app& a, request_ctx& ctx, store::write_txn& tx, std::string const& attempt_id,
                                       std::string_view state, code invalid, std::string_view param,
                                       round_trip_outcome const& out) {
    bool const is_sign_in = attempt_id.starts_with("sia_");
    auto refuse = [&] { return api_result<void>(param_error(invalid, param)); };
    store::sign_in_record si;
    store::sign_up_record su;
    store::oauth_flow_record* f = nullptr;
    if (is_sign_in) {
        auto s = tx.sign_ins().get(attempt_id);
        if (!s) return s.error();
        if (!*s || (*s)->first_factor.status != "unverified") return refuse();
        si = std::move(**s);
        f = &si.oauth;
    } else {
        auto s = tx.sign_ups().get(attempt_id);
        if (!s) return s.error();
        if (!*s || (*s)->oauth.verification.status != "unverified") return refuse();
        su = std::move(**s);
        f = &su.oauth;
    }
    if (!crypto::equal_ct(f->state, state)) return refuse();
    f->state.clear();  // spent whatever happens: a replayed answer finds nothing
    f->code_verifier.clear();
    auto& v = is_sign_in ? si.first_factor : f->verification;
    std::optional<store::user_record> user;
    if (out.error.empty()) {
        out.prove(*f);
        auto uid = out.owner(tx, *f, is_sign_in);
        if (!uid) return uid.error();
        if (*uid) {
            auto u = tx.users().get(**uid);
            if (!u) return u.error();
            if (*u) user = std::move(**u);
        }
    }
    auto client = tx.clients().get(is_sign_in ? si.client_id : su.client_id);
    if (!client) return client.error();
    if (!*client) return refuse();
    ctx.client_id = (*client)->id;
    if (!out.error.empty()) {
        v.status = "failed";
        f->error = out.error;
    } else if (is_sign_in && !user) {
        // No identifier yet (Clerk's shape): clerk-js then transfers to a sign-up instead of factor one.
        si.status = "needs_identifier";
        v.status = "transferable";
        f->error = std::string(code_name(code::external_account_not_found));
    } else if (is_sign_in && (user->banned || user->locked)) {
        v.status = "failed";
        f->error = std::string(code_name(user->banned ? code::user_banned : code::user_locked));
    } else if (is_sign_in) {
        out.link(*user, *f);
        v.status = "verified";
        v.verified_at = ctx.now;
        si.user_id = user->id;
        if (user->two_factor_enabled && !domain::supported_second_factors(a, *user).empty()) {
            // The provider proved the first factor only: a user with a second factor still owes it. The account
            // it proved is kept now.
            si.status = "needs_second_factor";
            auto prev = tx.users().get(user->id);
            if (!prev) return prev.error();
            if (auto r = tx.users().put(*user, prev->has_value() ? &**prev : nullptr); !r) return r.error();
        } else {
            auto sess = frontend::start_session(a, ctx, tx, **client, *user);
            if (!sess) return api_result<void>(sess.error());
            si.status = "complete";
            si.created_session_id = sess->id;
        }
    } else if (user) {
        v.status = "transferable";
        f->error = std::string(code_name(code::external_account_exists));
    } else {
        v.status = "verified";
        v.verified_at = ctx.now;
        out.fill_sign_up(su);
        auto done = frontend::complete_sign_up(a, ctx, tx, su, **client);
        if (!done) {
            su.oauth.error = std::string(code_name(done.error().code));
            su.oauth.verification.status = "failed";
        }
    }
    if (is_sign_in) {
        si.updated_at = ctx.now;
        if (auto r = tx.sign_ins().put(si); !r) return r.error();
    } else {
        su.updated_at = ctx.now;
        if (auto r = tx.sign_ups().put(su); !r) return r.error();
    }
    return api_result<void>();
}

}  // namespace latchkey::server::api::federation
