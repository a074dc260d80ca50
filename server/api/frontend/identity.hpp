#pragma once
// How the FAPI recognises a browser's client: the dev-browser token (development), the `__client`
// cookie (production-style) or the Authorization header (native apps).
//
// The client credential is "<client_id>.<secret>": 32 random bytes (base64url) whose SHA-256 is kept in the
// client record (`credential_digest`). It is checked against the store on every request, so it dies the moment
// the client is deleted or its credential rotated. It is rotated on every sign-in and sign-up that starts a
// session and on every sign-out (session-fixation defence, OWASP ASVS 4.0 V3.2.1): a credential planted in or
// captured from a browser before authentication can do nothing after it. The dev-browser token rotates with it.
// Clients written before rotation existed carry no digest and keep the legacy stateless credential
// ("<client_id>.<HMAC-SHA256(code_key, "client:" + client_id)>") until their first rotation.
#include "server/api/context.hpp"
#include "server/api/domain/client_credentials.hpp"
#include "store/store.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace latchkey::server::api::frontend {

/// The credential's shape and check (server/api/domain/client_credentials.hpp, shared with the BAPI).
using domain::credential_matches;
using domain::new_client_credential;
using domain::split_client_credential;

/// The client id if `token` is the current credential of a client in the store.
std::optional<std::string> verify_client_token(app const& a, store::read_txn const& t, std::string_view token);

/// Issues `client` a new credential (and, for a dev browser, a new dev-browser token bound to it) and sends it
/// the way the request's kind of client reads it: the `__client` cookie (browsers), the `Authorization`
/// response header (native) or the `Clerk-Db-Jwt` response header (dev browser). The old one is dead once `w`
/// commits. The caller writes `client`.
api_result<void> rotate_client_credential(app& a, request_ctx& ctx, store::write_txn& w, store::client_record& client);

/// Sends a freshly issued client credential: the Authorization response header for native clients, the
/// `__client` cookie otherwise (replacing any set earlier in the same response).
void send_client_credential(app const& a, request_ctx& ctx, std::string const& token);

/// Fills ctx.client_id / dev_browser_id / native / cookie_auth from the request.
/// Errors: 401 dev_browser_unauthenticated for an unknown dev-browser token, 401 authentication_invalid for a
/// native credential that is not current.
api_result<void> resolve_identity(app& a, request_ctx& ctx);

/// Reads a cookie by name, preferring the suffixed twin (`name_<suffix>`).
std::string const* find_cookie(app const& a, request_ctx const& ctx, std::string_view name);

}  // namespace latchkey::server::api::frontend
