#pragma once
// A user's external accounts (issue 15): FAPI DELETE /v1/me/external_accounts/{external_account_id} (clerk-js's
// `externalAccount.destroy()`; defined in frontend/me.cpp with the other /v1/me handlers whose helpers it shares)
// and BAPI DELETE /v1/users/{user_id}/external_accounts/{external_account_id} (`users.deleteUserExternalAccount`;
// backend/users.cpp). Both answer Clerk's deleted object; the provider identity's index entry goes with the account,
// so a later sign-in through that provider no longer finds the user.
#include "server/api/context.hpp"

namespace latchkey::server::api::frontend {
api_result<reply> delete_external_account(app& a, request_ctx& ctx);
}

namespace latchkey::server::api::backend {
api_result<reply> delete_user_external_account(app& a, request_ctx& ctx);
}

namespace latchkey::server::api::federation {
/// When `ea`'s provider has a revocation endpoint (configured or discovered): queues the provider-side revocation
/// (RFC 7009) of the tokens sealed in `ea` (refresh token, else access token) to run after `w` commits. Best
/// effort: a provider that fails or hangs never fails or delays the change (revocation.cpp).
void revoke_after_commit(app& a, store::write_txn& w, store::external_account_record const& ea);
}  // namespace latchkey::server::api::federation
