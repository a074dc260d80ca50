#pragma once
// The instance settings: what Clerk keeps in its dashboard plus the operator's process settings.
// An aggregate with sensible defaults for a local app; conf/load.hpp fills it from flags, env and a JSON file.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace latchkey::conf {

/// One user attribute (email_address, phone_number, username, first_name, last_name, password).
struct attribute {
    bool enabled = false;
    bool required = false;
    bool used_for_first_factor = false;  ///< identifiers only
    bool verify_at_sign_up = false;      ///< email/phone only
};

struct password_policy {
    std::uint32_t min_length = 8;
    std::uint32_t max_length = 72;
    bool require_lowercase = false;
    bool require_uppercase = false;
    bool require_numbers = false;
    bool require_special_char = false;
    bool reject_common = true;  ///< refuse a built-in list of the most common passwords (form_password_pwned)
};

struct jwt_template {
    std::string name;
    std::string claims = "{}";  ///< JSON object text
    std::uint32_t lifetime = 60;
    std::uint32_t allowed_clock_skew = 5;
};

struct attack_protection {
    std::uint32_t max_attempts = 100;            ///< failed sign-in attempts before the user is locked
    std::chrono::seconds lockout{3600};          ///< how long a lockout lasts
    std::uint32_t code_max_attempts = 3;         ///< wrong codes before a code is burned
    std::chrono::seconds code_ttl{600};          ///< one-time code lifetime
    std::uint32_t rate_per_ip_per_minute = 120;  ///< sign-in/sign-up/verification requests per IP
    std::uint32_t rate_per_identifier_per_minute = 30;
};

/// The look of the Account Portal (/sign-in, /sign-up, /user on the FAPI origin). The logo and favicon are also
/// what Clerk's components show everywhere (display_config); the colours go to the portal's
/// `appearance.variables`. Validated: URLs absolute http(s), colours hex (#rgb, #rgba, #rrggbb, #rrggbbaa).
struct branding_settings {
    std::string logo_url;          ///< display_config.logo_image_url
    std::string favicon_url;       ///< display_config.favicon_image_url, the portal's icon
    std::string primary_color;     ///< colorPrimary
    std::string background_color;  ///< colorBackground (and the portal page's background)
    std::string text_color;        ///< colorForeground
};

/// Clerk's "require express consent to legal documents": <SignUp/> shows a checkbox linking both documents and
/// a sign-up stays missing `legal_accepted` until it is accepted.
struct legal_consent_settings {
    bool enabled = false;
    std::string terms_url;           ///< display_config.terms_url
    std::string privacy_policy_url;  ///< display_config.privacy_policy_url
};

/// One message template: subject (email only) and plain-text body, with {{code}}, {{app_name}}, {{to}},
/// {{ttl_minutes}}, {{url}} placeholders.
struct message_template {
    std::string subject;
    std::string text;
};

/// Outgoing email. mode "outbox" (default) appends to <data_dir>/outbox.jsonl at once, as in development;
/// "smtp" queues each message durably and sends it over SMTP with libcurl.
struct email_delivery {
    std::string mode = "outbox";  ///< outbox | smtp
    std::string host;
    std::uint32_t port = 587;
    std::string tls = "starttls";  ///< starttls (required) | implicit (smtps) | none (plain; loopback tests only)
    std::string user;
    std::string password;       ///< never logged
    std::string password_env;   ///< name of an env var holding the password (read by conf::load)
    std::string password_file;  ///< file holding the password (read by conf::load; one trailing newline dropped)
    std::string from;           ///< "Name <addr@host>" or "addr@host"; header-checked
    std::string ca_file;        ///< PEM CA bundle for a private CA ("" = the system's)
    std::chrono::milliseconds connect_timeout{10'000};
    std::chrono::milliseconds timeout{30'000};  ///< whole transfer
};

/// Outgoing SMS. mode "outbox" (default) or "twilio": a Twilio-compatible form API, POST
/// {base_url}/2010-04-01/Accounts/{account_sid}/Messages.json with To, From, Body and basic auth.
struct sms_delivery {
    std::string mode = "outbox";  ///< outbox | twilio
    std::string base_url = "https://api.twilio.com";
    std::string account_sid;
    std::string auth_token;       ///< never logged
    std::string auth_token_env;   ///< name of an env var holding the token (read by conf::load)
    std::string auth_token_file;  ///< file holding the token (read by conf::load)
    std::string from;             ///< E.164 sender (or a messaging service's From)
    std::string ca_file;
    std::chrono::milliseconds timeout{15'000};
};

/// One webhook endpoint (Svix-compatible signatures, Clerk's event envelope).
struct webhook_endpoint {
    std::string url;
    std::vector<std::string> secrets;  ///< whsec_...; several sign each delivery during a rotation (first = newest)
    std::vector<std::string> events;   ///< event types to send; empty = all
    std::string ca_file;
};

/// The delivery queue and its transports.
struct delivery_settings {
    email_delivery email{};
    sms_delivery sms{};
    message_template verification_code{
        "{{code}} is your {{app_name}} verification code",
        "Your {{app_name}} verification code is {{code}}.\n\nIt expires in {{ttl_minutes}} minutes. If you did not "
        "ask for it, ignore this email.\n"};
    message_template password_reset{
        "{{code}} is your {{app_name}} password reset code",
        "Your {{app_name}} password reset code is {{code}}.\n\nIt expires in {{ttl_minutes}} minutes. If you did "
        "not ask to reset your password, ignore this email.\n"};
    message_template email_link{
        "Your {{app_name}} sign-in link",
        "Open this link to continue to {{app_name}}:\n\n{{url}}\n\nIt expires in {{ttl_minutes}} minutes.\n"};
    message_template invitation{"You are invited to {{app_name}}",
                                "You have been invited to {{app_name}}. Accept the invitation here:\n\n{{url}}\n"};
    message_template sms_code{"", "{{code}} is your {{app_name}} verification code."};
    std::uint32_t max_attempts = 8;  ///< attempts before a job is dead (kept for inspection)
    std::chrono::milliseconds backoff_base{1'000};
    std::chrono::milliseconds backoff_max{3'600'000};
    std::uint32_t workers = 2;  ///< delivery threads
};

/// A custom organization role (issue 13): `key` such as "org:billing", its permissions "org:<feature>:<perm>".
struct org_role {
    std::string key;
    std::string name;
    std::string description;
    std::vector<std::string> permissions;
};

/// Organizations (issue 13): the environment's organization_settings and the rules the API enforces.
struct organization_settings {
    bool enabled = false;
    std::uint32_t max_allowed_memberships = 5;  ///< per organization, creator included; 0 = unlimited
    std::string creator_role = "org:admin";
    std::string default_role = "org:member";  ///< the role of an invitation or membership that names none
    bool admin_delete = true;                 ///< admins may delete their organization
    bool force_organization_selection = false;
    bool slug_disabled = false;   ///< slugs are generated from the name
    std::vector<org_role> roles;  ///< custom roles beside org:admin and org:member
    // ---- domains (issue 13, appended) ----
    bool domains_enabled = false;  ///< organizations may add verified domains (suggestions, automatic invitations)
    /// the enrollment modes offered besides manual_invitation (automatic_invitation, automatic_suggestion)
    std::vector<std::string> domain_enrollment_modes{"automatic_invitation", "automatic_suggestion"};
};

/// A social / OpenID Connect provider this instance signs users in with (Clerk's `social` settings). `strategy` is
/// `oauth_<provider>` (oauth_google, oauth_github, ...) or `oauth_custom_<slug>` for any OpenID Connect provider.
/// Endpoints come from `issuer`'s discovery document when not given. Plain http endpoints are refused unless
/// `allow_http` (loopback tests).
struct oauth_provider {
    std::string strategy;
    std::string name;  ///< shown on the button
    std::string logo_url;
    std::string client_id;
    std::string client_secret;  ///< never logged
    std::string issuer;         ///< OpenID Connect issuer ("" = a plain OAuth 2.0 provider)
    std::string authorization_endpoint;
    std::string token_endpoint;
    std::string jwks_uri;
    std::string userinfo_endpoint;
    std::vector<std::string> scopes{"openid", "email", "profile"};
    std::string ca_file;                        ///< PEM CA bundle for a private CA ("" = the system's)
    bool allow_http = false;                    ///< accept http:// endpoints (loopback tests only)
    std::chrono::milliseconds timeout{10'000};  ///< each outbound request, whole transfer
    // ---- plain OAuth 2.0 providers (issue 15, appended): no issuer, the identity comes from the userinfo ----
    /// A second profile endpoint listing the user's email addresses (GitHub's /user/emails: an array of
    /// {email, verified, primary}); "" = none (the email comes from the userinfo answer).
    std::string emails_endpoint;
    /// Which userinfo members hold the identity ("" = the provider's usual names: GitHub's id, email, name, login,
    /// avatar_url for oauth_github; OpenID Connect's sub, email, email_verified, given_name, family_name, name,
    /// preferred_username, picture otherwise). A number is read as its decimal text.
    std::string map_user_id, map_email_address, map_email_verified, map_first_name, map_last_name, map_name,
        map_username, map_image_url;
    // ---- issue 15, appended ----
    /// RFC 7009 token revocation endpoint ("" = the discovery document's revocation_endpoint, if any): the
    /// provider's tokens are revoked there when an account is unlinked or its tokens dropped.
    std::string revocation_endpoint;
};

/// An Android app allowed to handle this instance's links and credentials (/.well-known/assetlinks.json).
struct android_app {
    std::string package_name;
    std::vector<std::string> sha256_cert_fingerprints;  ///< "AB:CD:..." (colon-separated uppercase hex)
    /// the assetlinks relations ("" = both delegate_permission/common.handle_all_urls and .get_login_creds)
    std::vector<std::string> relations;
};

/// An enterprise SSO connection to a SAML 2.0 identity provider (latchkey is the service provider). Users whose
/// email domain is in `domains` sign in with `strategy: enterprise_sso` (or the legacy `saml`). The IdP is given
/// by entity id, SSO URL (HTTP-Redirect binding) and signing certificate (PEM or base64 DER), or by its metadata
/// XML, from which the missing ones are read. `attr_*` name the assertion attributes mapped onto the user ("" =
/// the usual names; the email falls back to the NameID).
struct saml_connection {
    std::string id;  ///< samlc_... (the ACS and metadata URLs name it)
    std::string name;
    std::string provider = "saml_custom";  ///< saml_custom | saml_okta | saml_google | saml_microsoft
    std::vector<std::string> domains;
    std::string idp_entity_id;
    std::string idp_sso_url;
    std::string idp_certificate;
    std::string idp_metadata;  ///< the IdP's metadata XML text
    std::string attr_user_id, attr_email_address, attr_first_name, attr_last_name;
    bool allow_idp_initiated = false;
    bool sign_authn_requests = false;  ///< sign AuthnRequests (needs saml_sp_key/saml_sp_certificate)
    bool active = true;
    // ---- issue 15, appended ----
    /// The IdP's metadata URL (https): fetched at start, every `saml_metadata_refresh` and on BAPI update; the
    /// entity id, SSO URL and signing certificate not given are read from the last good copy.
    std::string idp_metadata_url;
};

/// Passkeys (issue 14; on when "passkey" is in first_factors): the environment's passkey_settings and the
/// WebAuthn relying party.
struct passkey_settings {
    bool allow_autofill = false;          ///< conditional UI on the sign-in form
    bool show_sign_in_button = true;      ///< the "sign in with a passkey" (discoverable) button
    bool satisfies_second_factor = true;  ///< a passkey sign-in skips the second factor
    /// The RP ID credentials are scoped to ("" = the registrable domain of the frontend API host, else that
    /// host). It must be the app pages' host or a registrable suffix of it; never an IP address.
    std::string rp_id;
    std::uint32_t timeout_ms = 300'000;  ///< the ceremony timeout given to the browser and the challenge's life
};

struct config {
    // ---- process ----
    std::string listen = "127.0.0.1:8080";          ///< FAPI listener
    std::string backend_listen = "127.0.0.1:8081";  ///< BAPI listener
    std::string data_dir = "./.latchkey/data";
    std::string config_file;
    std::vector<std::string> secret_keys;  ///< BAPI keys (first = primary); empty = generated in data_dir
    std::string frontend_api;              ///< public FAPI URL as browsers reach it; empty = http://<listen>
    /// The app's domain ("" = the registrable domain of the frontend API host): its origins are accepted for
    /// CORS without a list and __client_uat is set on it. Must contain the frontend API host.
    std::string app_domain;
    std::string instance_type = "development";  ///< development | production
    bool test_mode = true;
    unsigned threads = 0;       ///< I/O threads; 0 = hardware concurrency
    unsigned hash_threads = 0;  ///< password-hash threads; 0 = max(1, cores - 1)
    std::uint64_t map_size = 1ull << 34;
    bool durable = true;  ///< false = MDB_NOSYNC (faster, loses the last commits on power loss)
    std::string tls_cert;
    std::string tls_key;
    bool access_log = true;
    /// MaxMind DB file (e.g. GeoLite2-City.mmdb) for the city and country of session activity; "" = none.
    std::string geoip_database;

    // ---- limits ----
    std::uint32_t max_header_bytes = 16 * 1024;
    std::uint32_t max_body_bytes = 1024 * 1024;
    std::uint32_t max_field_bytes = 8 * 1024;  ///< one form/JSON string field
    std::chrono::milliseconds header_timeout{10'000};
    std::chrono::milliseconds idle_timeout{75'000};
    std::chrono::milliseconds shutdown_grace{5'000};
    std::uint32_t max_connections = 20'000;
    /// Profile images and organization logos (issue 14): the largest accepted file. Upload bodies
    /// (multipart/form-data, application/octet-stream) may be this size plus 64 KiB of framing, even when that
    /// is more than max_body_bytes.
    std::uint32_t max_image_bytes = 10 * 1024 * 1024;

    // ---- instance (dashboard) ----
    std::string application_name = "latchkey";
    attribute email_address{true, true, true, true};
    attribute phone_number{false, false, false, false};
    attribute username{false, false, false, false};
    attribute first_name{true, false, false, false};
    attribute last_name{true, false, false, false};
    attribute password{true, true, false, false};
    std::vector<std::string> first_factors{"password", "email_code", "reset_password_email_code"};
    std::vector<std::string> second_factors{};
    /// Step-up (issue 14): deleting the account and changing the password need a factor verified within this
    /// many minutes (the second factor when the user has one, else the first), else 403
    /// session_reverification_required; 0 = never required.
    std::uint32_t reverification_minutes = 0;
    password_policy passwords{};
    bool single_session_mode = false;
    std::chrono::seconds session_lifetime{7 * 24 * 3600};
    std::chrono::seconds inactivity_timeout{0};  ///< 0 = none
    std::chrono::seconds token_lifetime{60};
    std::chrono::seconds client_cookie_lifetime{7 * 24 * 3600};
    std::vector<std::string> allowed_origins;  ///< exact origins allowed for credentialed CORS / CSRF
    /// Further origins (scheme://host[:port]) that redirect targets may point at, beyond the FAPI's own origin
    /// and allowed_origins (Clerk's allowed_redirect_origins).
    std::vector<std::string> allowed_redirect_origins;
    std::vector<jwt_template> jwt_templates;
    std::string home_url;
    std::string sign_in_url;
    std::string sign_up_url;
    std::string user_profile_url;  ///< the app's own profile page ("" = the Account Portal's /user)
    std::string waitlist_url;      ///< the app's own waitlist page ("" = the Account Portal's /waitlist)
    branding_settings branding{};
    legal_consent_settings legal_consent{};
    std::string preferred_sign_in_strategy = "password";
    std::string sign_up_mode = "public";  ///< public | restricted | waitlist (only invited waitlist entries sign up)
    attack_protection protection{};

    // ---- delivery ----
    delivery_settings delivery{};
    std::vector<webhook_endpoint> webhooks;

    // ---- organizations (issue 13) ----
    organization_settings organizations{};
    // ---- federation ----
    std::vector<oauth_provider> oauth_providers;
    // ---- enterprise SSO (issue 15, SAML) ----
    std::vector<saml_connection> saml_connections;
    std::string saml_sp_key;          ///< PEM file: the key signing AuthnRequests ("" = unsigned)
    std::string saml_sp_certificate;  ///< PEM file: its certificate, published in the SP metadata
    // ---- passkeys (issue 14) ----
    passkey_settings passkeys{};
    // ---- tickets and MFA (issue 14) ----
    /// Clerk's "Require multi-factor authentication" (environment user_settings.sign_in.second_factor.required):
    /// a user without a second factor completes sign-in with a pending session holding the setup-mfa task.
    bool second_factor_required = false;
    // ---- app links and OAuth provider extras (issue 15) ----
    std::vector<android_app> android_apps;  ///< /.well-known/assetlinks.json (none = 404)
    std::vector<std::string> ios_app_ids;   ///< "<TEAMID>.<bundle id>": /.well-known/apple-app-site-association
    /// POST /oauth/register (RFC 7591 dynamic client registration); off = 422 and no registration_endpoint.
    bool oauth_dynamic_client_registration = false;
    // ---- shared store (issue 16, store/pg) ----
    /// PostgreSQL connection URL (postgres://...): the system of record shared by every node, each node's LMDB
    /// (data_dir/db) a local replica. "" = LMDB alone (the default).
    std::string postgres_url;
    /// Apply pending PostgreSQL schema migrations at start (`serve --migrate`); otherwise `latchkey migrate`.
    bool postgres_migrate = false;
    // ---- SAML IdP metadata by URL (issue 15) ----
    std::string saml_metadata_ca_file;  ///< PEM CA bundle for fetching IdP metadata ("" = the system's)
    std::chrono::milliseconds saml_metadata_timeout{10'000};  ///< one fetch, whole transfer
    /// Refetch period (a failed refetch keeps the last good copy).
    std::chrono::milliseconds saml_metadata_refresh{3 * 3600 * 1000};
};

}  // namespace latchkey::conf
