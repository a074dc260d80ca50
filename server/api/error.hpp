#pragma once
// Clerk's error model. Everything in api_error is client-visible; internals go to the log only.
// THE table of API error codes (code -> status -> default message) lives in error.cpp; handlers build
// errors through the named constructors below, never from ad-hoc strings.
#include "server/http/types.hpp"

#include <boost/assert/source_location.hpp>
#include <boost/json/object.hpp>
#include <boost/system/result.hpp>

#include <string>
#include <string_view>

namespace latchkey::server::api {

/// Every code latchkey may answer with. The order is irrelevant; error.cpp maps each to status and text. One row per
/// code, one line per row: a table read across (the formatter is off so it does not fold rows).
// clang-format off
#define LATCHKEY_API_ERRORS(X) \
    X(resource_not_found, not_found, "not found", "The requested resource was not found.") \
    X(method_not_allowed, method_not_allowed, "method not allowed", "This method is not allowed on this resource.") \
    X(form_param_missing, unprocessable_entity, "is missing", "A required parameter is missing.") \
    X(form_param_format_invalid, unprocessable_entity, "is invalid", "A parameter has an invalid format.") \
    X(form_param_value_invalid, unprocessable_entity, "is invalid", "A parameter has an invalid value.") \
    X(form_param_unknown, unprocessable_entity, "is unknown", "A parameter is not recognized.") \
    X(form_param_max_length_exceeded, unprocessable_entity, "is too long", "A parameter exceeds the allowed length.") \
    X(form_param_type_invalid, unprocessable_entity, "has the wrong type", "A parameter has the wrong type.") \
    X(form_identifier_not_found, unprocessable_entity, "Couldn't find your account.", "Couldn't find your account.") \
    X(form_identifier_exists, unprocessable_entity, "That identifier is taken. Please try another.", "That identifier is taken. Please try another.") \
    X(form_password_incorrect, unprocessable_entity, "Password is incorrect. Try again, or use another method.", "Password is incorrect. Try again, or use another method.") \
    X(form_password_pwned, unprocessable_entity, "Password has been found in an online data breach.", "Password has been found in an online data breach. For account safety, please use a different password.") \
    X(form_password_length_too_short, unprocessable_entity, "Passwords must be 8 characters or more.", "Passwords must be 8 characters or more.") \
    X(form_password_length_too_long, unprocessable_entity, "Password is too long.", "Password is too long.") \
    X(form_password_not_strong_enough, unprocessable_entity, "Given password is not strong enough.", "Given password is not strong enough.") \
    X(form_code_incorrect, unprocessable_entity, "Incorrect code", "The verification code is incorrect.") \
    X(form_username_invalid_length, unprocessable_entity, "Username length is invalid.", "Usernames must be between 4 and 64 characters long.") \
    X(form_username_invalid_character, unprocessable_entity, "Username contains invalid characters.", "Usernames can only contain letters, numbers, '_' and '-'.") \
    X(strategy_for_user_invalid, unprocessable_entity, "Invalid verification strategy", "The verification strategy is not valid for this account.") \
    X(verification_expired, bad_request, "Verification expired", "This verification has expired. Request a new code.") \
    X(verification_failed, bad_request, "Too many failed attempts", "You have made too many failed attempts. Request a new code.") \
    X(verification_already_verified, bad_request, "Already verified", "This verification has already been verified.") \
    X(verification_not_sent, bad_request, "Verification not sent", "No code was sent for this verification. Prepare the verification first.") \
    X(sign_in_not_ready, bad_request, "Sign-in is not at this step", "This sign-in cannot take this action now.") \
    X(sign_up_not_ready, bad_request, "Sign-up is not at this step", "This sign-up cannot take this action now.") \
    X(session_exists, bad_request, "You're already signed in", "You're already signed in.") \
    X(identifier_already_signed_in, bad_request, "You're already signed in", "You're already signed in with this identifier.") \
    X(user_locked, forbidden, "Account locked", "Your account is locked. Please try again later.") \
    X(user_banned, forbidden, "Account banned", "This account is banned.") \
    X(not_allowed_to_sign_up, forbidden, "Not allowed to sign up", "Sign-ups are restricted on this instance.") \
    X(sign_up_mode_restricted, forbidden, "Sign-ups are restricted", "Sign-ups are restricted on this application: only invited users may sign up.") \
    X(sign_up_restricted_waitlist, forbidden, "Sign-ups are currently unavailable", "Sign-ups are currently unavailable. Join the waitlist, and you will be notified when access becomes " "available.") \
    X(waitlist_entry_conflict, conflict, "Waitlist entry conflict", "This action is not possible for the waitlist entry in its current state.") \
    X(origin_invalid, forbidden, "Invalid origin", "The request origin is not allowed for this instance.") \
    X(authentication_invalid, unauthorized, "Invalid authentication", "The request is not authenticated.") \
    X(session_not_active, unauthorized, "Session is not active", "The session is not active.") \
    X(dev_browser_unauthenticated, unauthorized, "Browser unauthenticated", "Unable to authenticate this browser for your development instance.") \
    X(clerk_key_invalid, unauthorized, "Secret key invalid", "The provided secret key is invalid.") \
    X(authorization_header_missing, unauthorized, "Authorization header missing", "Requests to the Backend API need an Authorization: Bearer <secret key> header.") \
    X(missing_expired_token, unprocessable_entity, "Missing expired token", "The expired token is missing.") \
    X(password_not_set, unprocessable_entity, "No password set", "This user has no password.") \
    X(cannot_remove_last_identification, unprocessable_entity, "Cannot remove", "An account needs at least one way to sign in.") \
    X(too_many_requests, too_many_requests, "Too many requests", "Too many requests. Please try again later.") \
    X(request_body_invalid, bad_request, "Request body invalid", "The request body could not be parsed.") \
    X(request_body_too_large, payload_too_large, "Request body too large", "The request body is too large.") \
    X(request_header_too_large, request_header_fields_too_large, "Request header too large", "The request header fields are too large.") \
    X(request_timeout, request_timeout, "Request timeout", "The request took too long to arrive.") \
    X(malformed_request, bad_request, "Malformed request", "The request could not be parsed.") \
    X(unsupported_content_type, unsupported_media_type, "Unsupported content type", "Send application/json (Backend API) or application/x-www-form-urlencoded (Frontend API).") \
    X(too_many_connections, service_unavailable, "Server busy", "The server is at its connection limit.") \
    X(storage_full, insufficient_storage, "Storage full", "The server's storage is full.") \
    X(internal_clerk_error, internal_server_error, "Oops, an unexpected error occurred", "There was an internal error on our servers. Please try again.") \
    X(delete_self_disabled, forbidden, "Account deletion disabled", "This account cannot be deleted by its owner.") \
    /* ---- organizations (issue 13) ---- */ \
    X(organization_not_enabled_in_instance, forbidden, "Organizations are not enabled", "Organizations are not enabled for this instance.") \
    X(not_allowed_access, forbidden, "Not allowed", "You do not have permission to perform this action.") \
    X(organization_not_found_or_unauthorized, not_found, "Organization not found", "The organization does not exist or you are not a member of it.") \
    X(not_a_member_in_organization, forbidden, "Not a member", "You are not a member of this organization.") \
    X(already_a_member_in_organization, bad_request, "Already a member", "The user is already a member of the organization.") \
    X(organization_membership_quota_exceeded, forbidden, "Membership quota exceeded", "The organization has reached its maximum number of memberships.") \
    X(organization_minimum_permissions_needed, forbidden, "Minimum permissions needed", "There has to be at least one organization member with the administrator role.") \
    X(organization_admin_delete_not_enabled, forbidden, "Deletion not enabled", "Admins cannot delete this organization.") \
    X(duplicate_record, bad_request, "Duplicate invitation", "There is already a pending invitation for this email address.") \
    /* federation (server/api/federation) */ \
    X(oauth_callback_invalid, bad_request, "Invalid OAuth callback", "The OAuth callback is missing its state or names no pending sign-in or sign-up.") \
    X(oauth_access_denied, unprocessable_entity, "Access denied", "You did not grant access to your account.") \
    X(oauth_token_exchange_error, unprocessable_entity, "OAuth token exchange failed", "The identity provider did not exchange the authorization code.") \
    X(oauth_fetch_user_error, unprocessable_entity, "OAuth user fetch failed", "The identity provider's answer did not prove an identity.") \
    X(external_account_not_found, unprocessable_entity, "External account not found", "The External Account was not found.") \
    X(external_account_exists, unprocessable_entity, "External account exists", "This account is already connected to another user.") \
    /* ---- second factors and step-up (issue 14) ---- */ \
    X(totp_already_enabled, bad_request, "TOTP already enabled", "An authenticator app is already set up. Remove it before adding a new one.") \
    X(session_reverification_required, forbidden, "Additional verification required", "You need to verify your identity again to perform this action.") \
    /* ---- federation, continued (issue 15) ---- */ \
    X(oauth_provider_unavailable, service_unavailable, "Identity provider unavailable", "The identity provider cannot be reached right now. Try again in a moment.") \
    /* ---- enterprise SSO, SAML (issue 15; server/api/saml) ---- */ \
    X(saml_connection_not_found, unprocessable_entity, "No SSO connection", "There is no active enterprise SSO connection for this email address domain.") \
    X(saml_response_invalid, bad_request, "Invalid SAML response", "The SAML response from the identity provider could not be validated.") \
    X(saml_user_attribute_missing, unprocessable_entity, "Missing SAML attribute", "The SAML assertion lacks the email address of the user.") \
    X(saml_email_address_domain_mismatch, unprocessable_entity, "Email domain mismatch", "The email address in the SAML assertion does not belong to a domain of this connection.") \
    /* ---- passkeys and web3 wallets (issue 14) ---- */ \
    X(passkey_invalid_public_key_credential, unprocessable_entity, "is invalid", "The passkey credential is invalid.") \
    X(passkey_registration_failed, unprocessable_entity, "Passkey registration failed", "The passkey could not be registered.") \
    X(passkey_verification_failed, unprocessable_entity, "Passkey verification failed", "The passkey could not be verified.") \
    X(passkey_not_found, unprocessable_entity, "Passkey not found", "This passkey is not registered for this account.") \
    X(passkey_already_exists, unprocessable_entity, "Passkey already exists", "This passkey is already registered.") \
    X(passkey_quota_exceeded, forbidden, "Too many passkeys", "This account already has the maximum number of passkeys.") \
    /* ---- tickets: sign-in tokens, actor tokens, invitations (issue 14) ---- */ \
    X(ticket_expired, bad_request, "Ticket expired", "This ticket has expired. Ask for a new one.") \
    X(sign_in_token_revoked, bad_request, "Sign-in token revoked", "This sign-in token has been revoked.") \
    X(sign_in_token_already_used, bad_request, "Sign-in token already used", "This sign-in token has already been used.") \
    X(sign_in_token_cannot_be_revoked, bad_request, "Sign-in token cannot be revoked", "Only a pending sign-in token can be revoked.") \
    X(sign_in_token_can_be_used_only_in_sign_in, bad_request, "Sign-in token can be used only in sign-in", "A sign-in token can only be used to sign in.") \
    X(actor_token_revoked, bad_request, "Actor token revoked", "This actor token has been revoked.") \
    X(actor_token_already_used, bad_request, "Actor token already used", "This actor token has already been used.") \
    X(actor_token_cannot_be_revoked, bad_request, "Actor token cannot be revoked", "Only a pending actor token can be revoked.") \
    X(actor_token_can_be_used_only_in_sign_in, bad_request, "Actor token can be used only in sign-in", "An actor token can only be used to sign in.") \
    X(invitation_already_accepted, bad_request, "Invitation already accepted", "This invitation has already been accepted.") \
    X(invitation_already_revoked, bad_request, "Invitation revoked", "This invitation has been revoked.") \
    X(invitation_can_be_used_only_in_sign_up, bad_request, "Invitation can be used only in sign-up", "An invitation can only be used to sign up.") \
    /* ---- federation, finished (issue 15) ---- */ \
    X(dynamic_client_registration_disabled, unprocessable_entity, "Dynamic client registration is disabled", "Dynamic client registration is not enabled for this instance.") \
    X(oauth_token_retrieval_error, bad_request, "OAuth token retrieval failed", "The access token of this external account could not be refreshed with its provider.") \
    /* ---- the admin console (issue 23; server/api/console) ---- */ \
    X(console_session_invalid, unauthorized, "Console session invalid", "Your console session has ended or expired. Sign in to the console again.") \
    X(console_link_invalid, unauthorized, "Console link invalid", "This console link is unknown, expired or already used. Run `latchkey console-link` for a new one.") \
    X(console_csrf_invalid, forbidden, "CSRF check failed", "This console request lacks a valid CSRF token or comes from another origin.") \
    X(operator_right_missing, forbidden, "Not allowed", "Your operator role does not allow this action.") \
    X(operator_credentials_invalid, unauthorized, "Invalid credentials", "The operator name, password or authenticator code is incorrect.") \
    X(operator_locked, forbidden, "Operator locked", "Too many failed sign-ins: this operator is locked for a while.") \
    /* ---- shared store (issue 16, store/pg) ---- */ \
    X(store_unavailable, service_unavailable, "Service unavailable", "The data store cannot accept changes right now. Try again in a moment.") \
    /* ---- signing keys (issue 23, server/api/console/keys.cpp) ---- */ \
    X(signing_key_rotation_unsupported, conflict, "Key rotation unavailable", "Signing keys cannot be rotated while serving with a shared PostgreSQL store: every node has its own copy of " "keys/. Run `latchkey keys --rotate` once, copy keys/ to every node and restart them.")
// clang-format on

enum class code {
#define LATCHKEY_X(name, st, msg, long_msg) name,
    LATCHKEY_API_ERRORS(LATCHKEY_X)
#undef LATCHKEY_X
};

/// A client-visible error. `code` is the table's enum; its wire name comes from code_name() when it is serialised.
struct api_error {
    http::status status = http::status::internal_server_error;
    api::code code = api::code::internal_clerk_error;
    std::string message;
    std::string long_message;
    boost::json::object meta{};
};

[[noreturn]] void throw_exception_from_error(api_error const& e, boost::source_location const& loc);

template <class T>
using api_result = boost::system::result<T, api_error>;

/// Builds the error for `c` from the table.
api_error make_error(code c);
/// Same, with meta.param_name and (optionally) a long_message naming the problem.
api_error param_error(code c, std::string_view param_name, std::string_view long_message = {});

/// THE mapping of store errors to API errors, for the FAPI and the BAPI alike: key_exists -> 422
/// form_identifier_exists (param_name `param`, else "identifier"), map_full -> 507 storage_full, unavailable and
/// conflict (the shared PostgreSQL store, issue 16) -> 503 store_unavailable, anything else -> 500
/// internal_clerk_error. Everything but key_exists is logged with `what` naming the operation.
api_error store_error(boost::system::error_code ec, std::string_view what, std::string_view param = {});

/// The code's wire name ("form_identifier_not_found").
std::string_view code_name(code c) noexcept;
http::status code_status(code c) noexcept;

/// One error as Clerk renders it: {code,message,long_message,meta}.
boost::json::object error_object(api_error const& e);

/// The error envelope: {"errors":[{code,message,long_message,meta}],"clerk_trace_id":...}.
std::string render_errors(api_error const& e, std::string_view trace_id);

}  // namespace latchkey::server::api
