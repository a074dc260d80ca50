#pragma once
// Sign-in and sign-up with an ID token the app posts (issue 15): clerk-js's `authenticateWithGoogleOneTap({token})`
// (`strategy: google_one_tap`, checked against the `oauth_google` provider) and native apps'
// `strategy: oauth_token_<provider>` (any provider configured with an issuer). The token is verified like the ID
// token of the redirect flow (the provider's JWKS, issuer, audience = its client id, expiry; no nonce), then linked
// or used to create the user by the callback's rules (settle.cpp). `oauth_token_<provider>` may post an
// authorization `code` instead of (or with) the token: it is exchanged at the provider's token endpoint with the
// client secret (no PKCE, no redirect_uri), its ID token (or a plain OAuth 2.0 provider's userinfo) proves the
// identity, and the provider's tokens are kept on the account as after a redirect.
#include "server/api/context.hpp"
#include "server/api/federation/oauth2.hpp"
#include "store/store.hpp"

#include <string_view>

namespace latchkey::server::api::federation {

/// `google_one_tap` or `oauth_token_<provider>`.
bool is_token_strategy(std::string_view strategy);

/// Verifies the request's `token` and/or exchanges its `code` for `strategy` (blocking: the key set may be fetched,
/// the code exchanged; call it on the pool, outside any txn) and starts `flow`: the strategy, a fresh state, an
/// unverified verification. Errors: neither (form_param_missing on `token`), a token that does not verify or names
/// another subject than the code (form_param_value_invalid), the key set unreachable (oauth_provider_unavailable),
/// on `token`; a code the provider refuses (invalid, replayed) oauth_token_exchange_error, an answer proving nobody
/// oauth_fetch_user_error, on `code`; a provider not configured, or without an issuer for a token alone
/// (strategy_for_user_invalid on `strategy`).
api_result<userinfo_identity> verify_posted_token(app& a, request_ctx const& ctx, std::string_view strategy,
                                                  store::oauth_flow_record& flow);

/// In the write txn that stored sign-in `si` (its oauth flow from verify_posted_token): settles it with `who` and
/// reads it back. An identity nobody owns refuses with external_account_not_found on `token` (clerk-js then signs
/// up with the same token), so the caller aborts the txn; after a posted code (spent) the sign-in stays
/// needs_identifier with its first factor transferable instead, for `transfer=true`.
store::result<api_result<void>> settle_token_sign_in(app& a, request_ctx& ctx, store::write_txn& tx,
                                                     store::sign_in_record& si, userinfo_identity const& who);

/// A sign-up that takes the token's identity (its flow from verify_posted_token): profile, email (verified when the
/// provider says so) and the account to link when the user is created.
void fill_sign_up_from_token(store::sign_up_record& s, store::oauth_flow_record flow, userinfo_identity const& who,
                             std::int64_t now);

/// In the sign-up's write txn: an identity another user owns is never moved (external_account_exists on `token`).
store::result<api_result<void>> refuse_owned_identity(store::write_txn& tx, store::sign_up_record const& s);

}  // namespace latchkey::server::api::federation
