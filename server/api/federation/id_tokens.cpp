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
constexpr std::int64_t flow_lifetime_ms = std::int64_t{10} * 60 * 1000;

/// The provider strategy a token strategy names: google_one_tap is oauth_google's.
std::string provider_of(std::string_view strategy) {
    if (strategy == one_tap) return "oauth_google";
    return "oauth_" + std::string(strategy.substr(token_prefix.size()));
}

}  // namespace

bool is_token_strategy(std::string_view strategy) {
    return strategy == one_tap || (strategy.starts_with(token_prefix) && strategy.size() > token_prefix.size());
}

api_result<userinfo_identity> verify_posted_token(app& a, request_ctx const& ctx, std::string_view strategy,
                                                  store::oauth_flow_record& flow) {
    auto const* p = find_provider(a, provider_of(strategy));
    if (p == nullptr || p->issuer.empty()) return param_error(code::strategy_for_user_invalid, "strategy");
    auto const token = frontend::field(ctx, "token").value_or("");
    if (token.empty()) return param_error(code::form_param_missing, "token");
    if (token.size() > max_token_bytes) return param_error(code::form_param_value_invalid, "token");
    std::string why;
    auto who = verify_posted_id_token(a, *p, token, ctx.now / 1000, why);
    if (!who) {
        log::warn("posted_id_token", {{"provider", p->strategy}, {"reason", why}});
        return param_error(
            why.starts_with("jwks unavailable") ? code::oauth_provider_unavailable : code::form_param_value_invalid,
            "token");
    }
    flow = {};
    flow.strategy = std::string(strategy);
    flow.state = crypto::random_token(24);
    flow.verification.status = "unverified";
    flow.verification.strategy = flow.strategy;
    flow.verification.expire_at = ctx.now + flow_lifetime_ms;
    return std::move(*who);
}

store::result<api_result<void>> settle_token_sign_in(app& a, request_ctx& ctx, store::write_txn& tx,
                                                     store::sign_in_record& si, userinfo_identity const& who) {
    auto settled = settle(a, ctx, tx, si.id, si.oauth.state, code::form_param_value_invalid, "token",
                          proven_outcome(ctx, who, ""));
    if (!settled || !*settled) return settled;
    auto back = tx.sign_ins().get(si.id);
    if (!back) return back.error();
    if (!*back) return api_result<void>(param_error(code::form_param_value_invalid, "token"));
    si = std::move(**back);
    if (si.status == "needs_identifier")
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
