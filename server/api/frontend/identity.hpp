#pragma once
// How the FAPI recognises a browser's client: the dev-browser token (development), the `__client`
// cookie (production-style) or the Authorization header (native apps). The client credential is
// "<client_id>.<mac>", where mac = base64url(HMAC-SHA256(code_key, "client:" + client_id)) — stateless to
// check, and dead as soon as the client record is deleted.
#include "server/api/context.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace latchkey::server::api::frontend {

std::string make_client_token(app const& a, std::string_view client_id);
/// The client id if `token` is a credential this instance issued (constant-time MAC check).
std::optional<std::string> verify_client_token(app const& a, std::string_view token);

/// Fills ctx.client_id / dev_browser_id / native / cookie_auth from the request.
/// Errors: 401 dev_browser_unauthenticated for an unknown dev-browser token.
api_result<void> resolve_identity(app& a, request_ctx& ctx);

/// Reads a cookie by name, preferring the suffixed twin (`name_<suffix>`).
std::string const* find_cookie(app const& a, request_ctx const& ctx, std::string_view name);

}  // namespace latchkey::server::api::frontend
