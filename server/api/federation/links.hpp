#pragma once
// The rest of issue 15's federation routes, each in its own file under server/api/federation/:
//   well_known.cpp        GET /.well-known/assetlinks.json, GET /.well-known/apple-app-site-association
//   linking.cpp           FAPI POST /v1/me/external_accounts, PATCH .../{id}/reauthorize, DELETE .../{id}/tokens
//   provider_tokens.cpp   BAPI GET /v1/users/{user_id}/oauth_access_tokens/{provider}
// and POST /oauth/register (server/api/oauth/registration.cpp).
#include "server/api/context.hpp"

namespace latchkey::server::api::federation {

/// GET /.well-known/assetlinks.json: one statement per configured Android app; 404 when none is configured.
api_result<reply> get_assetlinks(app& a, request_ctx& ctx);
/// GET /.well-known/apple-app-site-association: {"webcredentials":{"apps":[...]}}; 404 when none is configured.
api_result<reply> get_apple_app_site_association(app& a, request_ctx& ctx);

/// POST /v1/me/external_accounts: starts linking a provider identity to the signed-in user.
api_result<reply> create_external_account(app& a, request_ctx& ctx);
/// PATCH /v1/me/external_accounts/{external_account_id}/reauthorize: a new round trip for a linked account.
api_result<reply> reauthorize_external_account(app& a, request_ctx& ctx);
/// DELETE /v1/me/external_accounts/{external_account_id}/tokens: forgets the provider's tokens of the account.
api_result<reply> revoke_external_account_tokens(app& a, request_ctx& ctx);

/// BAPI GET /v1/users/{user_id}/oauth_access_tokens/{provider}: the provider tokens kept for the user
/// (refreshed with the provider first when expired and a refresh token is kept). Runs on the pool.
api_result<reply> get_oauth_access_tokens(app& a, request_ctx& ctx);

}  // namespace latchkey::server::api::federation
