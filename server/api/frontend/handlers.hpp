#pragma once
// Every Frontend API handler. Signature: api_result<reply>(app&, request_ctx&); no I/O but LMDB.
#include "server/api/context.hpp"

namespace latchkey::server::api::frontend {

#define LATCHKEY_HANDLER(name) api_result<reply> name(app& a, request_ctx& ctx)

// meta.cpp: well-known documents, health, environment, dev browser
LATCHKEY_HANDLER(get_jwks);
LATCHKEY_HANDLER(get_environment);
LATCHKEY_HANDLER(patch_environment);
LATCHKEY_HANDLER(get_health);
LATCHKEY_HANDLER(create_dev_browser);

// assets.cpp: the SDK bundles under /npm/ and the default avatar (embedded in the binary)
LATCHKEY_HANDLER(get_npm_file);
LATCHKEY_HANDLER(get_default_avatar);

// waitlist.cpp: joining the waitlist
LATCHKEY_HANDLER(join_waitlist);

// portal.cpp: the Account Portal pages (/sign-in, /sign-up, /user) and their bootstrap script
LATCHKEY_HANDLER(get_portal_sign_in);
LATCHKEY_HANDLER(get_portal_sign_up);
LATCHKEY_HANDLER(get_portal_user);
LATCHKEY_HANDLER(get_portal_waitlist);
LATCHKEY_HANDLER(get_portal_script);
LATCHKEY_HANDLER(get_portal_organization);         // issue 13/19: <OrganizationProfile/>
LATCHKEY_HANDLER(get_portal_create_organization);  // issue 13/19: <CreateOrganization/>

// client.cpp: the client, the handshake
LATCHKEY_HANDLER(get_client);
LATCHKEY_HANDLER(create_client);
LATCHKEY_HANDLER(delete_client);
LATCHKEY_HANDLER(handshake);

// sessions.cpp: client sessions and tokens
LATCHKEY_HANDLER(end_all_sessions);
LATCHKEY_HANDLER(get_session);
LATCHKEY_HANDLER(touch_session);
LATCHKEY_HANDLER(end_session);
LATCHKEY_HANDLER(remove_session);
LATCHKEY_HANDLER(create_session_token);
LATCHKEY_HANDLER(create_session_template_token);

// sign_ins.cpp
LATCHKEY_HANDLER(create_sign_in);
LATCHKEY_HANDLER(get_sign_in);
LATCHKEY_HANDLER(reset_password);
LATCHKEY_HANDLER(prepare_first_factor);
LATCHKEY_HANDLER(attempt_first_factor);
LATCHKEY_HANDLER(prepare_second_factor);
LATCHKEY_HANDLER(attempt_second_factor);

// sign_ups.cpp
LATCHKEY_HANDLER(create_sign_up);
LATCHKEY_HANDLER(get_sign_up);
LATCHKEY_HANDLER(update_sign_up);
LATCHKEY_HANDLER(prepare_sign_up_verification);
LATCHKEY_HANDLER(attempt_sign_up_verification);

// me.cpp
LATCHKEY_HANDLER(get_me);
LATCHKEY_HANDLER(update_me);
LATCHKEY_HANDLER(delete_me);
LATCHKEY_HANDLER(update_me_metadata);
LATCHKEY_HANDLER(create_me_token);
LATCHKEY_HANDLER(change_password);
LATCHKEY_HANDLER(remove_password);
LATCHKEY_HANDLER(me_sessions);
LATCHKEY_HANDLER(me_active_sessions);
LATCHKEY_HANDLER(me_revoke_session);
LATCHKEY_HANDLER(list_email_addresses);
LATCHKEY_HANDLER(create_email_address);
LATCHKEY_HANDLER(get_email_address);
LATCHKEY_HANDLER(delete_email_address);
LATCHKEY_HANDLER(prepare_email_verification);
LATCHKEY_HANDLER(attempt_email_verification);
LATCHKEY_HANDLER(list_phone_numbers);
LATCHKEY_HANDLER(create_phone_number);
LATCHKEY_HANDLER(get_phone_number);
LATCHKEY_HANDLER(update_phone_number);
LATCHKEY_HANDLER(delete_phone_number);
LATCHKEY_HANDLER(prepare_phone_verification);
LATCHKEY_HANDLER(attempt_phone_verification);

// mfa.cpp: second factors of the signed-in user (issue 14)
LATCHKEY_HANDLER(create_totp);
LATCHKEY_HANDLER(attempt_totp_verification);
LATCHKEY_HANDLER(delete_totp);
LATCHKEY_HANDLER(create_backup_codes);

// reverification.cpp: session step-up (issue 14)
LATCHKEY_HANDLER(start_session_verification);
LATCHKEY_HANDLER(prepare_session_verification_first_factor);
LATCHKEY_HANDLER(attempt_session_verification_first_factor);
LATCHKEY_HANDLER(prepare_session_verification_second_factor);
LATCHKEY_HANDLER(attempt_session_verification_second_factor);

// me.cpp: the profile image (issue 14)
LATCHKEY_HANDLER(set_profile_image);
LATCHKEY_HANDLER(delete_profile_image);

// passkeys.cpp: the signed-in user's passkeys (WebAuthn, issue 14)
LATCHKEY_HANDLER(create_passkey);
LATCHKEY_HANDLER(get_passkey);
LATCHKEY_HANDLER(update_passkey);
LATCHKEY_HANDLER(delete_passkey);
LATCHKEY_HANDLER(attempt_passkey_verification);

// web3_wallets.cpp: the signed-in user's web3 wallets (issue 14)
LATCHKEY_HANDLER(list_web3_wallets);
LATCHKEY_HANDLER(create_web3_wallet);
LATCHKEY_HANDLER(get_web3_wallet);
LATCHKEY_HANDLER(delete_web3_wallet);
LATCHKEY_HANDLER(prepare_web3_wallet_verification);
LATCHKEY_HANDLER(attempt_web3_wallet_verification);

#undef LATCHKEY_HANDLER

}  // namespace latchkey::server::api::frontend
