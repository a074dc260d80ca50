#pragma once
// Every Backend API handler. Signature: api_result<reply>(app&, request_ctx&); JSON body in ctx.body.
#include "server/api/context.hpp"

namespace latchkey::server::api::backend {

#define LATCHKEY_HANDLER(name) api_result<reply> name(app& a, request_ctx& ctx)

// jwks.cpp
LATCHKEY_HANDLER(get_jwks);

// clients.cpp
LATCHKEY_HANDLER(list_clients);
LATCHKEY_HANDLER(verify_client);
LATCHKEY_HANDLER(get_client);
LATCHKEY_HANDLER(get_handshake_payload);

// identifications.cpp: email addresses and phone numbers
LATCHKEY_HANDLER(create_email_address);
LATCHKEY_HANDLER(get_email_address);
LATCHKEY_HANDLER(update_email_address);
LATCHKEY_HANDLER(delete_email_address);
LATCHKEY_HANDLER(create_phone_number);
LATCHKEY_HANDLER(get_phone_number);
LATCHKEY_HANDLER(update_phone_number);
LATCHKEY_HANDLER(delete_phone_number);

// sessions.cpp
LATCHKEY_HANDLER(list_sessions);
LATCHKEY_HANDLER(get_session);
LATCHKEY_HANDLER(revoke_session);
LATCHKEY_HANDLER(verify_session);
LATCHKEY_HANDLER(create_session_token);
LATCHKEY_HANDLER(create_session_template_token);

// users.cpp
LATCHKEY_HANDLER(list_users);
LATCHKEY_HANDLER(create_user);
LATCHKEY_HANDLER(count_users);
LATCHKEY_HANDLER(get_user);
LATCHKEY_HANDLER(update_user);
LATCHKEY_HANDLER(delete_user);
LATCHKEY_HANDLER(ban_user);
LATCHKEY_HANDLER(unban_user);
LATCHKEY_HANDLER(lock_user);
LATCHKEY_HANDLER(unlock_user);
LATCHKEY_HANDLER(update_user_metadata);
LATCHKEY_HANDLER(replace_user_metadata);
LATCHKEY_HANDLER(verify_password);
LATCHKEY_HANDLER(remove_user_password);

// jwt_templates.cpp
LATCHKEY_HANDLER(list_jwt_templates);
LATCHKEY_HANDLER(create_jwt_template);
LATCHKEY_HANDLER(get_jwt_template);
LATCHKEY_HANDLER(update_jwt_template);
LATCHKEY_HANDLER(delete_jwt_template);

// waitlist.cpp
LATCHKEY_HANDLER(list_waitlist_entries);
LATCHKEY_HANDLER(create_waitlist_entry);
LATCHKEY_HANDLER(create_waitlist_entries);
LATCHKEY_HANDLER(delete_waitlist_entry);
LATCHKEY_HANDLER(invite_waitlist_entry);
LATCHKEY_HANDLER(reject_waitlist_entry);

// metrics.cpp: the operator metrics (Prometheus text)
LATCHKEY_HANDLER(get_metrics);

// instance.cpp
LATCHKEY_HANDLER(get_instance);

// users.cpp: the profile image (issue 14)
LATCHKEY_HANDLER(set_user_profile_image);
LATCHKEY_HANDLER(delete_user_profile_image);

#undef LATCHKEY_HANDLER

}  // namespace latchkey::server::api::backend
