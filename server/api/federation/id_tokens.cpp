#include "server/api/federation/id_tokens.hpp"

#include "crypto/random.hpp"
#include "server/api/app.hpp"
#include "server/api/frontend/common.hpp"
#include "server/log.hpp"

namespace latchkey::server::api::federation {

namespace {

constexpr std::string_view one_tap = "google_one_tap";
constexpr std::string_view token_prefix = "oauth_token_";
constexpr std::size_t max_token_bytes = std::size_t{16} * 1024;
constexpr std::size_t max_code_bytes = 2048;

/// The provider strategy a token strategy names: google_one_tap is oauth_google's.
std::string provider_of(std::string_view strategy) {
    if (strategy == one_tap) return "oauth_google";
    return "oauth_" + std::string(strategy.substr(token_prefix.size()));
}

}  // namespace

bool is_token_strategy(std::string_view strategy) {
    return strategy == one_tap || (strategy.starts_with(token_prefix) && strategy.size() > token_prefix.size());
}

namespace {

/// The identity an authorization `code` the app posted proves: exchanged at the provider's token endpoint with the
/// client secret (no PKCE, no redirect_uri: the code was issued to the app), then the ID token (or a plain OAuth 2.0
/// provider's userinfo) checked as in the redirect flow, the provider's tokens sealed into the identity.
api_result<userinfo_identity> exchange_posted_code(app& a, request_ctx const& ctx, conf::oauth_provider const& p,
                                                   std::string_view code) {
    if (code.size() > max_code_bytes) return param_error(code::form_param_value_invalid, "code");
    store::oauth_flow_record posted;
    posted.strategy = p.strategy;
    auto out = exchange(a, p, code, posted, ctx.now / 1000);
    if (!out.who) {
        // A refused (invalid, replayed) code is oauth_token_exchange_error; an answer proving nobody, its own code.
        auto const failed = out.error == code_name(code::oauth_fetch_user_error) ? code::oauth_fetch_user_error
                                                                                 : code::oauth_token_exchange_error;
        return param_error(failed, "code");
    }
    out.who->identity.approved_scopes = out.scopes;
    return std::move(*out.who);
}

}  // namespace

api_result<userinfo_identity> verify_posted_token(app& a, request_ctx const& ctx, std::string_view strategy,
                                                  store::oauth_flow_record& flow) {
    auto const* p = find_provider(a, provider_of(strategy));
    auto const token = frontend::field(ctx, "token").value_or("");
    // oauth_token_<provider> may post an authorization code instead of (or with) the ID token.
    auto const code = strategy == one_tap ? std::string() : frontend::field(ctx, "code").value_or("");
    if (p == nullptr || (p->issuer.empty() && code.empty()))
        return param_error(code::strategy_for_user_invalid, "strategy");
    if (token.empty() && code.empty()) return param_error(code::form_param_missing, "token");
    if (token.size() > max_token_bytes) return param_error(code::form_param_value_invalid, "token");
    std::optional<userinfo_identity> who;
    if (!code.empty()) {
        auto exchanged = exchange_posted_code(a, ctx, *p, code);
        if (!exchanged) return exchanged.error();
        who = std::move(*exchanged);
    }
    if (!token.empty()) {
        std::string why;
        auto posted = verify_posted_id_token(a, *p, token, ctx.now / 1000, why);
        // Both posted: the token must name the identity the code proved.
        if (posted && who && posted->identity.provider_user_id != who->identity.provider_user_id)
            why = "id_token sub differs from the code's", posted.reset();
        if (!posted) {
            log::warn("posted_id_token", {{"provider", p->strategy}, {"reason", why}});
            return param_error(
                why.starts_with("jwks unavailable") ? code::oauth_provider_unavailable : code::form_param_value_invalid,
                "token");
        }
        if (!who) who = std::move(posted);
    }
    open_flow(flow, strategy, crypto::random_token(24), {}, ctx.now);  // nothing to visit, nowhere to return to
    return std::move(*who);
}

store::result<api_result<void>> settle_token_sign_in(app& a, request_ctx& ctx, store::write_txn& tx,
                                                     store::sign_in_record& si, userinfo_identity const& who) {
    auto settled = settle(a, ctx, tx, si.id, si.oauth.state, code::form_param_value_invalid, "token",
                          proven_outcome(ctx, who, who.identity.approved_scopes));
    if (!settled || !*settled) return settled;
    auto back = tx.sign_ins().get(si.id);
    if (!back) return back.error();
    if (!*back) return api_result<void>(param_error(code::form_param_value_invalid, "token"));
    si = std::move(**back);
    // A posted code is spent: the sign-in stays transferable (clerk-js signs up with transfer=true), as after a
    // redirect. A posted token alone may be posted again to sign up.
    if (si.status == "needs_identifier" && frontend::field(ctx, "code").value_or("").empty())
        return api_result<void>(param_error(code::external_account_not_found, "token"));
    return api_result<void>();
}

void fill_sign_up_from_token(store::sign_up_record& s, store::oauth_flow_record flow, userinfo_identity const& who,
                             std::int64_t now) {
    store::sign_in_record as_sign_in;
    as_sign_in.oauth = std::move(flow);
    as_sign_in.oauth.identity = who.identity;
    as_sign_in.oauth.email_verified = who.email_verified;
    as_sign_in.first_factor.status = "transferable";
    transfer_to_sign_up(as_sign_in, s, now);
}

store::result<api_result<void>> refuse_owned_identity(store::write_txn& tx, store::sign_up_record const& s) {
    auto owner =
        tx.users().id_by_identification(identity_key(s.oauth.identity.provider, s.oauth.identity.provider_user_id));
    if (!owner) return owner.error();
    if (*owner) return api_result<void>(param_error(code::external_account_exists, "token"));
    return api_result<void>();
}

}  // namespace latchkey::server::api::federation
