#pragma once
// Tickets and BAPI second factors (issue 14), routed in server/api/routes.cpp; the rules live in
// server/api/domain/tickets.* and server/api/domain/mfa.*.
#include "server/api/context.hpp"

namespace latchkey::server::api::tickets {

// ---- BAPI ----
api_result<reply> create_sign_in_token(app&, request_ctx&);
api_result<reply> revoke_sign_in_token(app&, request_ctx&);
api_result<reply> create_actor_token(app&, request_ctx&);
api_result<reply> revoke_actor_token(app&, request_ctx&);
api_result<reply> list_invitations(app&, request_ctx&);
api_result<reply> create_invitation(app&, request_ctx&);
api_result<reply> create_invitations_bulk(app&, request_ctx&);
api_result<reply> revoke_invitation(app&, request_ctx&);
api_result<reply> delete_invitation(app&, request_ctx&);
api_result<reply> disable_user_mfa(app&, request_ctx&);
api_result<reply> delete_user_totp(app&, request_ctx&);
api_result<reply> delete_user_backup_codes(app&, request_ctx&);
api_result<reply> verify_user_totp(app&, request_ctx&);

// ---- FAPI ----
/// GET /v1/tickets/accept?ticket=: 303 to where the ticket's kind is redeemed (sign-in or sign-up URL with
/// __clerk_ticket and __clerk_status).
api_result<reply> accept_ticket(app&, request_ctx&);

}  // namespace latchkey::server::api::tickets
