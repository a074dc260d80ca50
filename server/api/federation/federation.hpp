#pragma once
// Social sign-in as a relying party (issue 15): `strategy: oauth_*` on sign-in / sign-up starts an authorization
// code flow with PKCE (S256), a `state` naming the attempt and a nonce; GET|POST /v1/oauth_callback exchanges the
// code, verifies the provider's ID token against its JWKS and links or creates the user.
//
// The outbound HTTP goes through `fetcher` (server/federation/fetch.*: libcurl, timeouts, bounded bodies); the
// callback route runs on the pool, never on an I/O thread, and never holds a store txn across a fetch.
#include "conf/config.hpp"
#include "server/api/context.hpp"
#include "store/store.hpp"

#include <boost/json/object.hpp>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace latchkey::server::api::federation {

/// One outbound request: GET `url`, or POST `form` (application/x-www-form-urlencoded) with HTTP Basic.
struct fetch_request {
    bool post = false;
    std::string url;
    std::string form;
    std::string basic_user, basic_password;
    std::string bearer;                       ///< Authorization: Bearer (a userinfo request); "" = none
    std::string accept = "application/json";  ///< the Accept header
};

struct fetch_reply {
    long status = 0;    ///< 0 = no answer (see error)
    std::string body;   ///< at most max_fetch_bytes
    std::string error;  ///< transport failure, for the log ("" = none)
};

/// Longest answer a provider may send (a discovery document, a token answer, a JWKS).
inline constexpr std::size_t max_fetch_bytes = 256 * 1024;

/// The providers' key sets as last fetched, by jwks_uri: kept `max_age_ms`, at most `max_entries` of them, refetched
/// early when an ID token names a kid the cached set lacks (at most once a minute per kid, so a stream of made-up
/// kids cannot turn into a stream of fetches). Thread-safe.
class jwks_cache {
public:
    static constexpr std::size_t max_entries = 64;
    static constexpr std::size_t max_kids_remembered = 32;
    static constexpr std::int64_t max_age_ms = 60LL * 60 * 1000;
    static constexpr std::int64_t kid_refetch_interval_ms = 60LL * 1000;

    /// The cached set for `uri` if younger than max_age_ms.
    std::optional<std::string> get(std::string const& uri, std::int64_t now_ms) const;
    void put(std::string const& uri, std::string body, std::int64_t now_ms);
    /// Whether an unknown `kid` may refetch `uri` now (records the attempt when it may).
    bool may_refetch_for(std::string const& uri, std::string const& kid, std::int64_t now_ms);
    /// How many times a set was stored (fetched), for tests.
    std::size_t stores() const;

private:
    struct entry {
        std::string body;
        std::int64_t fetched_ms = 0;
        std::map<std::string, std::int64_t> kid_refetches;
    };
    mutable std::mutex mu_;
    std::map<std::string, entry> entries_;
    std::size_t stores_ = 0;
};

/// A provider's endpoints, from its configuration or its discovery document.
struct provider_endpoints {
    std::string authorization_endpoint, token_endpoint, jwks_uri, userinfo_endpoint;
    std::string revocation_endpoint;  ///< RFC 7009 ("" = none)
};

/// Endpoints discovered after the server started (a provider that was down at start), by strategy. Thread-safe.
class endpoint_book {
public:
    std::optional<provider_endpoints> get(std::string const& strategy) const;
    void put(std::string const& strategy, provider_endpoints e);

private:
    mutable std::mutex mu_;
    std::map<std::string, provider_endpoints> entries_;
};

/// Blocking HTTP client for a provider's endpoints. Called off the I/O threads only. Owns what it learned from
/// the providers (their key sets) and the provider-side revocations waiting to be sent.
class fetcher {
public:
    virtual ~fetcher();
    virtual fetch_reply fetch(conf::oauth_provider const& p, fetch_request const& r) = 0;

    /// Queues an RFC 7009 revocation (POST `endpoint` token=&token_type_hint=, HTTP Basic with p's client) for one
    /// background thread: best effort, nobody waits for it; at most max_queued_revocations wait (more are dropped,
    /// logged).
    void revoke_later(conf::oauth_provider const& p, std::string endpoint, std::string_view token,
                      std::string_view hint);
    /// Stops the revocation thread; revocations not yet sent are dropped. The owner calls it before it goes (a
    /// derived fetcher in its destructor).
    void stop_revocations();
    /// How many revocations were answered 2xx (for tests and the log).
    std::size_t revocations_sent() const;
    static constexpr std::size_t max_queued_revocations = 1024;

    jwks_cache jwks;
    endpoint_book endpoints;

private:
    struct revocation {
        conf::oauth_provider p;
        fetch_request r;
    };
    void run_revocations();
    mutable std::mutex rq_mu_;
    std::condition_variable rq_cv_;
    std::deque<revocation> rq_;
    std::thread rq_thread_;
    bool rq_stop_ = false;
    std::size_t rq_sent_ = 0;
};

/// The environment's `user_settings.social`: one entry per configured provider, keyed by strategy.
boost::json::object social_settings(app const& a);

/// The configured provider for `strategy`, or null.
conf::oauth_provider const* find_provider(app const& a, std::string_view strategy);

/// Fills the endpoints of every provider with an issuer from its discovery document
/// (<issuer>/.well-known/openid-configuration). Run by the composition root before serving.
/// @returns "" or what went wrong (the providers it names are left for `discover_later`).
std::string discover(conf::config& c, fetcher& f);

/// While serving: discovers the providers whose endpoints are still unknown into `f.endpoints`.
/// @returns "" when every provider is known, else what still fails. Blocking; off the I/O threads.
std::string discover_later(conf::config const& c, fetcher& f);

/// The endpoints of `p` (configured, discovered at start, or discovered later); empty fields when unknown.
provider_endpoints endpoints_of(app const& a, conf::oauth_provider const& p);

/// The key of the users' identification index for a provider identity.
std::string identity_key(std::string_view provider, std::string_view subject);

/// Starts a flow for `strategy` on an attempt: fills `flow` (state, PKCE, nonce, authorize URL) from the request's
/// redirect_url / action_complete_redirect_url. `attempt_id` goes into the state. `extra_scopes` are asked for
/// beside the provider's configured scopes (clerk-js's additionalScopes).
api_result<void> start(app& a, request_ctx const& ctx, std::string_view strategy, std::string const& attempt_id,
                       store::oauth_flow_record& flow, std::vector<std::string> const& extra_scopes = {});

/// Where a round trip sends the browser back: the request's `redirect_url` (required) and
/// `action_complete_redirect_url` (optional), each an allowed redirect (form_param_missing / form_param_value_invalid
/// on the one that is not).
struct return_urls {
    std::string redirect, complete;
};
api_result<return_urls> return_urls_of(app const& a, request_ctx const& ctx);

/// Resets `flow` to a round trip of `strategy` waiting for the provider: its `state`, where the browser goes back, an
/// unverified verification that lapses in 10 minutes.
void open_flow(store::oauth_flow_record& flow, std::string_view strategy, std::string state, return_urls const& back,
               std::int64_t now);

/// The provider's configured scopes and `extra` (without repeats), space-separated.
std::string scope_string(conf::oauth_provider const& p, std::vector<std::string> const& extra);

/// Clerk's verification object of a provider round trip: `object` (verification_oauth, verification_saml, ...),
/// status, strategy, external_verification_redirect_url (left out when nullopt), error, expire_at (ms; 0 = null),
/// attempts (null).
boost::json::object verification_object(std::string_view object, std::string_view status, std::string_view strategy,
                                        std::optional<boost::json::value> redirect_url, boost::json::value error,
                                        std::int64_t expire_at);

/// Clerk's verification JSON of a flow (first_factor_verification / verifications.external_account): an OAuth
/// flow's `verification_oauth`, an enterprise SSO (SAML) flow's `verification_saml`.
boost::json::value verification_json(store::oauth_flow_record const& flow, store::verification_record const& v);

/// Clerk's error JSON {code, message, long_message, meta} of a stored error code: the error table's messages for
/// any code in it; null for "".
boost::json::value error_json(std::string_view name);

/// Clerk's ExternalAccount JSON.
boost::json::object external_account_json(store::external_account_record const& e);

/// Copies a sign-in's proven identity into a new sign-up (POST /v1/client/sign_ups transfer=true). Returns
/// false when the client's sign-in has no transferable identity.
bool transfer_to_sign_up(store::sign_in_record const& si, store::sign_up_record& su, std::int64_t now);

/// Links the sign-up's proven identity (if any) to the user it creates.
void attach_to_user(store::sign_up_record const& su, store::user_record& u, std::int64_t now);

/// GET|POST /v1/oauth_callback.
api_result<reply> oauth_callback(app& a, request_ctx& ctx);

}  // namespace latchkey::server::api::federation
