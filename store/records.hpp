#pragma once
// Plain storage records. These are NOT the wire JSON views: server/api/views map them to Clerk's shapes.
// Every record is described (Boost.Describe) so store/codec.hpp can encode it with one versioned codec.
// Adding a field: append it at the END of the BOOST_DESCRIBE_STRUCT list (the codec reads old records,
// which lack trailing fields, by leaving those at their defaults). Never reorder or remove fields.
#include <boost/describe/class.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace latchkey::store {

/// A one-time code challenge (email_code, phone_code, reset_password_*_code) or a password check state.
struct verification_record {
    std::string status;          ///< "" (none), "unverified", "verified", "failed", "expired", "transferable"
    std::string strategy;        ///< "email_code", "phone_code", "password", "reset_password_email_code", ...
    std::string code_digest;     ///< HMAC-SHA256 of the code (hex); never the code itself
    std::string target_id;       ///< idn_ id of the email address / phone number the code was sent to
    std::int64_t expire_at = 0;  ///< ms since epoch; 0 = none
    std::int32_t attempts = 0;   ///< failed attempts so far
    std::int64_t verified_at = 0;
    // ---- email links (issue 14; appended) ----
    std::string redirect_url;        ///< where GET /v1/verify sends the browser (checked by allowed_redirect)
    std::string verified_at_client;  ///< the client that opened the link (clerk-js compares it with its own)
    // --- passkeys and web3 wallets (issue 14; appended) ---
    /// What the client must answer, rendered as the verification's `nonce` (passkeys: the WebAuthn options JSON,
    /// holding the single-use challenge) or `message` (web3 wallets: the text to sign); "" = none.
    std::string nonce;
};
BOOST_DESCRIBE_STRUCT(verification_record, (),
                      (status, strategy, code_digest, target_id, expire_at, attempts, verified_at, redirect_url,
                       verified_at_client, nonce))

/// An email address or phone number owned by a user (Clerk "identification", id prefix idn_).
struct identification_record {
    std::string id;
    std::string kind;                  ///< "email_address" | "phone_number"
    std::string value;                 ///< as entered (email lowercased, phone in E.164)
    verification_record verification;  ///< status "verified" once proven
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
    bool reserved = false;
    // --- second factors (issue 14; appended) ---
    bool reserved_for_second_factor = false;  ///< a phone number usable as the SMS second factor
    bool default_second_factor = false;       ///< the phone number a second-factor prepare picks by default
};
BOOST_DESCRIBE_STRUCT(identification_record, (),
                      (id, kind, value, verification, created_at, updated_at, reserved, reserved_for_second_factor,
                       default_second_factor))

/// Whether the identification owns its address: proven (verification "verified") or reserved for the user by
/// the BAPI (Clerk's "reserved": unverified but usable for sign-in, so no one else may claim it). Only an
/// owning claim is unique across users, resolves as a sign-in identifier, and survives someone else's
/// verified claim; see the claim rules in store/db.hpp.
inline bool owns_address(identification_record const& i) noexcept {
    return i.reserved || i.verification.status == "verified";
}

/// A provider identity linked to a user (Clerk's ExternalAccount). `identification_id` is derived from the
/// provider and its subject (server/api/federation), so the users' identification index finds the owner of a
/// provider identity and keeps it unique.
struct external_account_record {
    std::string id;                 ///< eac_...
    std::string identification_id;  ///< idn_oauth_<digest of provider and subject>
    std::string provider;           ///< oauth_google, oauth_custom_acme, ...
    std::string provider_user_id;   ///< the provider's subject
    std::string email_address;
    std::string first_name;
    std::string last_name;
    std::string image_url;
    std::string username;
    std::string approved_scopes;  ///< space-separated
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
    // ---- the provider's tokens (issue 15, appended): sealed with the instance seal key, the associated data
    // naming the provider identity (server/api/federation/tokens.hpp); "" = none ----
    std::string access_token_sealed;
    std::string refresh_token_sealed;
    std::int64_t token_expires_at = 0;  ///< ms; 0 = unknown / does not expire
    // ---- the last linking round trip's outcome (issue 15, appended; server/api/federation/linking.cpp) ----
    std::string verification_status;          ///< "" = verified; "unverified" (round trip pending) or "failed"
    std::string verification_error;           ///< Clerk error code of a failed round trip ("" = none)
    std::int64_t verification_expire_at = 0;  ///< ms; when a pending round trip lapses (0 = none)
};
BOOST_DESCRIBE_STRUCT(external_account_record, (),
                      (id, identification_id, provider, provider_user_id, email_address, first_name, last_name,
                       image_url, username, approved_scopes, created_at, updated_at, access_token_sealed,
                       refresh_token_sealed, token_expires_at, verification_status, verification_error,
                       verification_expire_at))

/// Whether the account's last linking round trip ended well ("" status): shown as "verified", and a way in that
/// counts as the user's last one. A pending or failed link shows on the user as its round trip left it.
inline bool proven(external_account_record const& e) noexcept { return e.verification_status.empty(); }

/// An OAuth round trip started by a sign-in or sign-up (`strategy: oauth_*`): what the callback needs to finish
/// it, and the identity it proved (kept for the sign-in → sign-up transfer).
struct oauth_flow_record {
    std::string strategy;
    std::string state;          ///< random; the callback's `state` (compared in constant time)
    std::string code_verifier;  ///< PKCE (S256)
    std::string nonce;
    std::string redirect_url;  ///< where the callback sends the browser back to (the app's sso-callback)
    std::string action_complete_redirect_url;
    std::string authorize_url;         ///< external_verification_redirect_url
    std::string error;                 ///< Clerk error code of the outcome ("" = none)
    external_account_record identity;  ///< the proven identity (provider_user_id "" = none yet)
    bool email_verified = false;
    verification_record verification;  ///< the sign-up's external_account verification (a sign-in uses first_factor)
};
BOOST_DESCRIBE_STRUCT(oauth_flow_record, (),
                      (strategy, state, code_verifier, nonce, redirect_url, action_complete_redirect_url, authorize_url,
                       error, identity, email_verified, verification))

/// An enterprise (SAML) identity linked to a user (Clerk's EnterpriseAccount), proven by a SAML connection's
/// IdP (server/api/saml). The connection's name and provider are copied so the user JSON needs no other read.
struct enterprise_account_record {
    std::string id;             ///< eaa_...
    std::string connection_id;  ///< samlc_...
    std::string connection_name;
    std::string provider;  ///< saml_custom, saml_okta, ...
    std::string protocol = "saml";
    std::string provider_user_id;  ///< the assertion's NameID (or the mapped user_id attribute)
    std::string email_address;
    std::string first_name;
    std::string last_name;
    bool active = true;
    std::int64_t last_authenticated_at = 0;  ///< ms
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
};
BOOST_DESCRIBE_STRUCT(enterprise_account_record, (),
                      (id, connection_id, connection_name, provider, protocol, provider_user_id, email_address,
                       first_name, last_name, active, last_authenticated_at, created_at, updated_at))

/// A WebAuthn credential of a user (Clerk's Passkey, issue 14). Registered by /v1/me/passkeys: `verification`
/// holds the creation options (with their single-use challenge) until the attestation arrives.
struct passkey_record {
    std::string id;  ///< idn_... (Clerk's passkey identification id)
    std::string name;
    std::string credential_id;    ///< the authenticator's credential id, base64url (no padding); "" until verified
    std::string public_key;       ///< the credential's COSE_Key (CBOR bytes, base64url)
    std::int32_t algorithm = 0;   ///< COSE alg: -7 (ES256) or -257 (RS256)
    std::int64_t sign_count = 0;  ///< the authenticator's last signature counter
    verification_record verification;
    std::int64_t last_used_at = 0;  ///< ms; 0 = never
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
};
BOOST_DESCRIBE_STRUCT(passkey_record, (),
                      (id, name, credential_id, public_key, algorithm, sign_count, verification, last_used_at,
                       created_at, updated_at))

struct user_record {
    std::string id;
    std::string external_id;
    std::string username;
    std::string first_name;
    std::string last_name;
    std::string image_url;
    std::string password_digest;  ///< encoded hash ($argon2id$..., $2b$..., pbkdf2_sha256$..., ...); "" = none
    std::string primary_email_address_id;
    std::string primary_phone_number_id;
    std::vector<identification_record> identifications;
    std::string public_metadata = "{}";   ///< JSON object text
    std::string private_metadata = "{}";  ///< JSON object text
    std::string unsafe_metadata = "{}";   ///< JSON object text
    bool banned = false;
    bool locked = false;
    std::int64_t lockout_expires_at = 0;  ///< ms; 0 = not locked by lockout
    std::int32_t failed_attempts = 0;     ///< consecutive failed first-factor attempts
    bool totp_enabled = false;
    bool backup_code_enabled = false;
    bool two_factor_enabled = false;
    bool delete_self_enabled = true;
    bool create_organization_enabled = true;
    std::int64_t password_last_updated_at = 0;
    std::int64_t last_sign_in_at = 0;
    std::int64_t last_active_at = 0;
    std::int64_t legal_accepted_at = 0;
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
    // ---- organizations (issue 13) ----
    /// The user's organization memberships as the user JSON shows them (a JSON array text, each with its nested
    /// organization), kept by server/api/organizations/ in the txn of every change that alters them, so the user
    /// view (and its fragment cache, keyed on this record) needs no other read.
    std::string organization_memberships = "[]";
    // --- second factors (issue 14; appended: the codec only allows appending) ---
    /// The TOTP secret sealed at rest (crypto::seal under the instance seal key, aad "totp:" + id); "" = none.
    /// With totp_enabled false it is an enrolment awaiting its first code.
    std::string totp_secret_sealed;
    std::string totp_id;               ///< totp_... (Clerk's TOTP resource id); "" = none
    std::int64_t totp_created_at = 0;  ///< ms
    std::int64_t totp_updated_at = 0;  ///< ms
    std::int64_t totp_last_step = 0;   ///< the last TOTP time step accepted: codes are single use
    /// HMAC-SHA-256 (hex, under the instance code key) of each unused backup code; a used code is removed.
    std::vector<std::string> backup_code_digests;
    std::int64_t backup_codes_created_at = 0;  ///< ms
    std::vector<external_account_record> external_accounts;
    // --- enterprise SSO (issue 15, SAML; appended) ---
    std::vector<enterprise_account_record> enterprise_accounts;
    // --- passkeys and web3 wallets (issue 14; appended) ---
    std::vector<passkey_record> passkeys;
    std::string primary_web3_wallet_id;  ///< idn_ of an identification of kind "web3_wallet"; "" = none
};
BOOST_DESCRIBE_STRUCT(user_record, (),
                      (id, external_id, username, first_name, last_name, image_url, password_digest,
                       primary_email_address_id, primary_phone_number_id, identifications, public_metadata,
                       private_metadata, unsafe_metadata, banned, locked, lockout_expires_at, failed_attempts,
                       totp_enabled, backup_code_enabled, two_factor_enabled, delete_self_enabled,
                       create_organization_enabled, password_last_updated_at, last_sign_in_at, last_active_at,
                       legal_accepted_at, created_at, updated_at, organization_memberships, totp_secret_sealed, totp_id,
                       totp_created_at, totp_updated_at, totp_last_step, backup_code_digests, backup_codes_created_at,
                       external_accounts, enterprise_accounts, passkeys, primary_web3_wallet_id))

struct client_record {
    std::string id;
    std::vector<std::string> session_ids;  ///< every session ever attached, newest last
    std::string sign_in_id;
    std::string sign_up_id;
    std::string last_active_session_id;
    std::string dev_browser_id;  ///< set when the client is keyed by a dev browser
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
    /// SHA-256 (base64url) of the client credential's secret; "" for clients from before credentials were
    /// rotated (their credential is the legacy stateless MAC until the next rotation).
    std::string credential_digest;
};
BOOST_DESCRIBE_STRUCT(client_record, (),
                      (id, session_ids, sign_in_id, sign_up_id, last_active_session_id, dev_browser_id, created_at,
                       updated_at, credential_digest))

/// Where a session was last used from (Clerk's SessionActivity): captured when the session starts and refreshed
/// when the browser touches it (server/api/activity.hpp). The User-Agent is kept raw (bounded) and parsed when
/// rendered, so a better parser improves old sessions too; id "" = nothing recorded (sessions from before this
/// member existed, sessions created through the BAPI).
struct session_activity_record {
    std::string id;               ///< sess_activity_...; a new one whenever the browser or the address changes
    std::string user_agent;       ///< the request's User-Agent, truncated (may hold any bytes: never rendered raw)
    std::string ip_address;       ///< canonical text of the client address ("" if it was not a valid address)
    std::string city;             ///< GeoIP city name (English, valid UTF-8) or ""
    std::string country;          ///< GeoIP ISO 3166-1 alpha-2 country code or ""
    std::int64_t created_at = 0;  ///< ms
};
BOOST_DESCRIBE_STRUCT(session_activity_record, (), (id, user_agent, ip_address, city, country, created_at))

struct session_record {
    std::string id;
    std::string client_id;
    std::string user_id;
    std::string status;  ///< active, pending, ended, removed, revoked, expired, abandoned, replaced
    std::string last_active_organization_id;
    std::string actor;  ///< JSON text or ""
    std::int64_t last_active_at = 0;
    std::int64_t expire_at = 0;
    std::int64_t abandon_at = 0;
    std::int64_t first_factor_at = 0;   ///< ms; for the fva claim
    std::int64_t second_factor_at = 0;  ///< ms; 0 = none
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
    session_activity_record activity;  ///< latest_activity
    // ---- organizations (issue 13) ----
    /// The session token's organization claims for last_active_organization_id (`,"fea":...,"o":{...}` text to
    /// splice into the payload; "" = none), kept by server/api/organizations/ whenever the active organization,
    /// the membership's role or the organization's slug changes, so minting reads nothing else.
    std::string org_claims;
    // --- session reverification (step-up, issue 14; appended) ---
    std::string verification_level;           ///< "" = none started; first_factor | second_factor | multi_factor
    std::string verification_status;          ///< needs_first_factor | needs_second_factor | complete
    verification_record verification_first;   ///< the reverification's first factor
    verification_record verification_second;  ///< the reverification's second factor
};
BOOST_DESCRIBE_STRUCT(session_record, (),
                      (id, client_id, user_id, status, last_active_organization_id, actor, last_active_at, expire_at,
                       abandon_at, first_factor_at, second_factor_at, created_at, updated_at, activity, org_claims,
                       verification_level, verification_status, verification_first, verification_second))

struct sign_in_record {
    std::string id;
    std::string client_id;
    std::string
        status;  ///< needs_identifier, needs_first_factor, needs_second_factor, needs_new_password, complete, abandoned
    std::string identifier;         ///< as given
    std::string user_id;            ///< resolved user ("" until identified)
    std::string identification_id;  ///< idn_ the identifier matched (if email/phone)
    verification_record first_factor;
    verification_record second_factor;
    std::string created_session_id;
    std::int64_t abandon_at = 0;
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
    oauth_flow_record oauth;  ///< strategy "" = not an OAuth sign-in
};
BOOST_DESCRIBE_STRUCT(sign_in_record, (),
                      (id, client_id, status, identifier, user_id, identification_id, first_factor, second_factor,
                       created_session_id, abandon_at, created_at, updated_at, oauth))

struct sign_up_record {
    std::string id;
    std::string client_id;
    std::string status;  ///< missing_requirements, complete, abandoned
    std::string email_address;
    std::string phone_number;
    std::string username;
    std::string first_name;
    std::string last_name;
    std::string password_digest;
    std::string unsafe_metadata = "{}";
    std::string external_id;
    bool legal_accepted = false;
    verification_record email_verification;
    verification_record phone_verification;
    std::string created_user_id;
    std::string created_session_id;
    std::int64_t abandon_at = 0;
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
    // ---- organizations (issue 13) ----
    std::string org_invitation_id;  ///< the organization invitation whose ticket started it: joined on completion
    oauth_flow_record oauth;        ///< strategy "" = no external account
    // --- web3 wallets (issue 14; appended) ---
    std::string web3_wallet;  ///< EIP-55 address ("" = none)
    verification_record web3_wallet_verification;
    // ---- tickets (issue 14; appended) ----
    std::string ticket_id;  ///< the application invitation (inv_) whose ticket started it: accepted on completion
};
BOOST_DESCRIBE_STRUCT(sign_up_record, (),
                      (id, client_id, status, email_address, phone_number, username, first_name, last_name,
                       password_digest, unsafe_metadata, external_id, legal_accepted, email_verification,
                       phone_verification, created_user_id, created_session_id, abandon_at, created_at, updated_at,
                       org_invitation_id, oauth, web3_wallet, web3_wallet_verification, ticket_id))

/// Dev-browser token (development instances): the token id keys a client.
struct dev_browser_record {
    std::string id;
    std::string client_id;  ///< "" until the first request that needs a client
    std::int64_t created_at = 0;
};
BOOST_DESCRIBE_STRUCT(dev_browser_record, (), (id, client_id, created_at))

struct jwt_template_record {
    std::string id;
    std::string name;
    std::string claims;  ///< JSON object text
    std::int32_t lifetime = 60;
    std::int32_t allowed_clock_skew = 5;
    bool custom_signing_key = false;
    std::string signing_algorithm = "RS256";
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
};
BOOST_DESCRIBE_STRUCT(jwt_template_record, (),
                      (id, name, claims, lifetime, allowed_clock_skew, custom_signing_key, signing_algorithm,
                       created_at, updated_at))

/// One queued delivery (email, SMS, webhook); the queue's rules are in store/queue.hpp.
struct job_record {
    std::string id;                    ///< time-ordered id (job_...), chosen by the caller
    std::string kind;                  ///< "email" | "sms" | "webhook"
    std::string payload;               ///< kind-specific JSON text
    std::int32_t attempts = 0;         ///< delivery attempts started so far
    std::int64_t next_attempt_at = 0;  ///< unix ms
    std::int64_t created_at = 0;       ///< unix ms
    std::string state = "pending";     ///< "pending" | "dead"
    std::string last_error;            ///< why the last attempt failed (no secrets, no message bodies)
    bool leased = false;               ///< claimed by a worker, delivery in flight
};
BOOST_DESCRIBE_STRUCT(job_record, (),
                      (id, kind, payload, attempts, next_attempt_at, created_at, state, last_error, leased))

/// A waitlist entry (FAPI POST /v1/waitlist, BAPI /v1/waitlist_entries).
struct waitlist_entry_record {
    std::string id;                 ///< wle_...
    std::string email_address;      ///< lowercased
    std::string status;             ///< pending | invited | rejected | completed
    std::string invitation_id;      ///< inv_... ("" = never invited)
    std::string ticket_digest;      ///< SHA-256 (hex) of the invitation ticket's secret; never the secret
    std::string invitation_status;  ///< pending | accepted | revoked ("" = no invitation)
    std::int64_t invited_at = 0;    ///< ms since epoch
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
};
BOOST_DESCRIBE_STRUCT(waitlist_entry_record, (),
                      (id, email_address, status, invitation_id, ticket_digest, invitation_status, invited_at,
                       created_at, updated_at))

/// An uploaded image (profile image, organization logo; issue 14), served at <FAPI>/v1/images/{id}.
struct image_record {
    std::string id;            ///< img_...
    std::string owner_id;      ///< the user_... or org_... whose image it is
    std::string content_type;  ///< image/png | image/jpeg | image/gif | image/webp, from the magic bytes
    std::string name;          ///< the uploaded file name (as given, for the Image JSON)
    std::string digest;        ///< SHA-256 (hex) of `bytes`: the ETag
    std::string bytes;
    std::int64_t created_at = 0;
};
BOOST_DESCRIBE_STRUCT(image_record, (), (id, owner_id, content_type, name, digest, bytes, created_at))

}  // namespace latchkey::store
