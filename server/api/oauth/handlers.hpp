#pragma once
// latchkey as an OAuth 2.0 / OpenID Connect provider: BAPI /v1/oauth_applications (applications.cpp) and the
// FAPI /oauth/* endpoints and discovery documents (provider.cpp).
#include "server/api/context.hpp"

#include <string>
#include <string_view>

namespace latchkey::server::api::oauth {

#define LATCHKEY_HANDLER(name) api_result<reply> name(app& a, request_ctx& ctx)

// applications.cpp (BAPI)
LATCHKEY_HANDLER(list_applications);
LATCHKEY_HANDLER(create_application);
LATCHKEY_HANDLER(get_application);
LATCHKEY_HANDLER(update_application);
LATCHKEY_HANDLER(delete_application);
LATCHKEY_HANDLER(rotate_secret);
// applications.cpp (FAPI): POST /oauth/register, RFC 7591 dynamic client registration (issue 15)
LATCHKEY_HANDLER(register_client);

// provider.cpp (FAPI)
LATCHKEY_HANDLER(authorize);
LATCHKEY_HANDLER(get_consent);
LATCHKEY_HANDLER(post_consent);
LATCHKEY_HANDLER(token);
LATCHKEY_HANDLER(userinfo);
LATCHKEY_HANDLER(token_info);
LATCHKEY_HANDLER(revoke);
LATCHKEY_HANDLER(openid_configuration);
LATCHKEY_HANDLER(authorization_server_metadata);
LATCHKEY_HANDLER(verify_access_token);  // BAPI

#undef LATCHKEY_HANDLER

/// SHA-256 (hex) of a secret value: how client secrets, codes and tokens are found in the store.
std::string digest_hex(std::string_view secret);

}  // namespace latchkey::server::api::oauth
