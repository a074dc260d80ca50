#pragma once
// Plain OAuth 2.0 pieces of social sign-in (issue 15), shared by the callback (federation.cpp), account linking
// (linking.cpp) and the BAPI token read (provider_tokens.cpp):
//  - the identity of a provider without an ID token (GitHub-style): its userinfo endpoint (and GitHub's
//    /user/emails) read through a field mapping;
//  - the provider's tokens, sealed at rest in the external account (AES-256-GCM under the instance seal key,
//    the associated data naming the provider identity, so a sealed token copied to another account does not
//    open), and their refresh.
// Everything here that fetches is blocking: call it off the I/O threads and outside any store txn.
#include "server/api/federation/federation.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace latchkey::server::api::federation {

/// Appends k=v (percent-encoded) to a query or form.
void add_form_param(std::string& q, std::string_view k, std::string_view v);

/// What a token endpoint answered.
struct provider_tokens {
    std::string access, refresh;
    std::int64_t expires_at = 0;  ///< ms; 0 = not said
    std::string scope;
};

/// Reads access_token, refresh_token, expires_in (seconds) and scope from a token answer.
provider_tokens tokens_from_answer(boost::json::object const& answer, std::int64_t now_ms);

/// Seals `t` into `ea` (whose provider and provider_user_id must be set). An empty refresh token keeps the one
/// already sealed (providers may not rotate it). Does nothing without a seal key.
void seal_tokens(app const& a, store::external_account_record& ea, provider_tokens const& t);

/// Drops the sealed tokens of `ea`.
void forget_tokens(store::external_account_record& ea);

/// The sealed tokens of `ea`, opened; nullopt when none or when they do not open.
std::optional<std::string> open_access_token(app const& a, store::external_account_record const& ea);
std::optional<std::string> open_refresh_token(app const& a, store::external_account_record const& ea);

/// POSTs a grant's `form` to `endpoint` (p's token endpoint), the client authenticated by its secret (HTTP Basic),
/// else by client_id in the form. @returns the answer's JSON object, or nullopt (logged as `event`) when the provider
/// fails, refuses, or answers without a `required` string member.
std::optional<boost::json::object> token_request(app& a, conf::oauth_provider const& p, std::string const& endpoint,
                                                 std::string form, std::string_view required, std::string_view event);

/// The refresh_token grant at `p`'s token endpoint. @returns the new tokens (the refresh token kept when the
/// answer names none), or nullopt (logged) when the provider refuses or cannot be reached.
std::optional<provider_tokens> refresh_tokens(app& a, conf::oauth_provider const& p, std::string const& refresh_token,
                                              std::int64_t now_ms);

/// The identity the userinfo endpoint (and the emails endpoint, when configured) tells for an access token.
struct userinfo_identity {
    store::external_account_record identity;  ///< provider, provider_user_id and the profile
    bool email_verified = false;
};

/// Fetches and maps the userinfo of `access_token`. @returns nullopt with `why` (for the log) when the endpoint
/// fails, answers something that is not a JSON object, or names no user id.
std::optional<userinfo_identity> identity_from_userinfo(app& a, conf::oauth_provider const& p,
                                                        std::string const& access_token, std::string& why);

/// Maps one userinfo document (exposed for tests of the mapping). Emails: `emails` is GitHub's /user/emails
/// array or null.
std::optional<userinfo_identity> map_userinfo(conf::oauth_provider const& p, boost::json::object const& info,
                                              boost::json::value const* emails);

/// The outcome of a code exchange, decided outside any txn.
struct exchange_outcome {
    std::optional<userinfo_identity> who;  ///< with the provider's tokens sealed into who->identity
    std::string error;                     ///< Clerk error code name when who is empty
    std::string scopes;
};

/// Exchanges an authorization `code` of `flow` (PKCE verifier, nonce) at `p`'s token endpoint and proves the
/// identity: an OpenID provider's ID token (JWKS, iss, aud, exp, nonce), a plain OAuth 2.0 provider's userinfo.
/// A flow without a verifier is a code an app posted (oauth_token_<provider>): no redirect_uri, no code_verifier,
/// and (no nonce) no nonce check; the client secret authenticates the exchange either way.
exchange_outcome exchange(app& a, conf::oauth_provider const& p, std::string_view code,
                          store::oauth_flow_record const& flow, std::int64_t now_s);

/// /v1/oauth_callback for a state naming a user (`user_...`; `user_id` "" = a missing or garbled state, the user
/// signed in on this browser): finishes a round trip started by POST /v1/me/external_accounts or .../reauthorize
/// (linking.cpp). A provider error, a wrong or lapsed state from the browser that started it, or an identity another
/// user has ends on the account as verification "failed" with its error, and the browser goes back to redirect_url.
api_result<reply> link_callback(app& a, request_ctx& ctx, std::string const& user_id, std::string const& state,
                                std::string const& code_param, std::string const& error_param);

/// What a provider round trip (OAuth callback, SAML ACS) proved, for `settle`.
struct round_trip_outcome {
    std::string error;  ///< the Clerk error code when nothing was proven ("" = proven)
    /// Records the proven identity in the attempt's flow (identity, email_verified).
    std::function<void(store::oauth_flow_record&)> prove;
    /// The id of the user the proven identity belongs to, if any.
    std::function<store::result<std::optional<std::string>>(store::write_txn&, store::oauth_flow_record const&,
                                                            bool is_sign_in)>
        owner;
    /// Adds (or refreshes) the proven account on the user it signs in.
    std::function<void(store::user_record&, store::oauth_flow_record const&)> link;
    /// Copies the proven identity into the sign-up that creates the user.
    std::function<void(store::sign_up_record&)> fill_sign_up;
};

/// Settles attempt `attempt_id` (sia_/sua_) in `tx`: it must still wait for the round trip `state` names, else
/// `invalid` on `param`. The state is spent whatever happens; then, as clerk-js's handleRedirectCallback reads it:
/// failed with the outcome's error; a sign-in of nobody known needs_identifier + transferable
/// (external_account_not_found); a banned or locked user failed; a sign-in of a known user verified and complete
/// (or needs_second_factor); a sign-up of somebody known transferable (external_account_exists); else the sign-up
/// completes.
store::result<api_result<void>> settle(app& a, request_ctx& ctx, store::write_txn& tx, std::string const& attempt_id,
                                       std::string_view state, code invalid, std::string_view param,
                                       round_trip_outcome const& out);

/// The outcome of a proven provider identity (`who` empty: error left for the caller): its owner is the user the
/// identity is linked to, else (sign-in, verified email) the user owning the address; a sign-in links it, a sign-up
/// takes its profile. Shared by the OAuth callback and the posted ID tokens (id_tokens.cpp).
round_trip_outcome proven_outcome(request_ctx& ctx, std::optional<userinfo_identity> const& who,
                                  std::string const& scopes);

/// An ID token an app posted (One Tap, a native app's provider SDK), checked against `p`'s key set, issuer,
/// audience (its client id) and expiry; no nonce (none of ours was asked for). nullopt with `why` for the log.
std::optional<userinfo_identity> verify_posted_id_token(app& a, conf::oauth_provider const& p, std::string_view token,
                                                        std::int64_t now_s, std::string& why);

/// Whether the callback's browser may finish a round trip started by client `client_id`: the client its
/// __client cookie names must be that one (a browser without the cookie is not refused: the state decides).
bool same_browser(app& a, request_ctx const& ctx, store::read_txn const& t, std::string const& client_id);

/// Redirects the browser to `url` (303).
reply redirect_see_other(std::string const& url);

}  // namespace latchkey::server::api::federation
