#pragma once
// Enterprise SSO with SAML 2.0, latchkey as the service provider (issue 15).
//
// Connections come from the config (`saml_connections`, read-only) and from BAPI /v1/saml_connections (kept as
// one JSON array under the meta key "saml_connections"). `strategy: enterprise_sso` (or the legacy `saml`) on a
// sign-in or sign-up picks the active connection of the email address's domain and sends the browser to the IdP
// with an AuthnRequest (HTTP-Redirect binding; RelayState names the attempt, the request ID is kept in the
// attempt's flow as its `state`, the connection id as its `nonce`). The IdP posts its Response to
// /v1/saml/acs/{connection_id}: it is validated by server/saml (XML-DSig with libxmlsec1, issuer, audience,
// recipient, time window, InResponseTo) outside any txn, on the pool; then one write spends the attempt, records
// the assertion id in the replay cache (meta "saml_replay:<hour>") and links or creates the user, whose
// `enterprise_accounts` show the link. The browser goes back to the attempt's redirect_url like the OAuth
// callback.
#include "conf/config.hpp"
#include "server/api/context.hpp"
#include "store/store.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::server::api::saml_sso {

/// A connection as the API sees it.
struct connection {
    conf::saml_connection c;
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
    bool from_config = false;
    /// The IdP metadata last fetched from c.idp_metadata_url ("" = none yet) and when (ms).
    std::string fetched_metadata{};
    std::int64_t metadata_fetched_at = 0;
};

/// `enterprise_sso` or the legacy `saml`.
bool is_strategy(std::string_view strategy) noexcept;

/// The SP's entity id, ACS URL and metadata URL of a connection.
std::string sp_entity_id(app const& a, std::string_view connection_id);
std::string acs_url(app const& a, std::string_view connection_id);

/// Every connection (config first, then the stored ones, oldest first).
store::result<std::vector<connection>> all(app const& a, store::read_txn const& t);

/// The IdP's entity id, SSO URL and certificate, completed from its metadata XML when given, else from the copy
/// fetched from its metadata URL.
conf::saml_connection resolved(connection const& k);

/// The IdP's signing certificates a response may be signed with: the configured one, else every signing
/// certificate of its metadata (KeyDescriptor use="signing" or without `use`; several during a key rollover).
std::vector<std::string> signing_certificates(connection const& k);

/// Fetches and checks the IdP metadata at `url` (https, the configured CA file and timeout, bounded size, no DTD).
/// Blocking: off the I/O threads, outside any txn. @returns the XML, or nullopt with `why`.
std::optional<std::string> fetch_metadata(app& a, std::string const& url, std::string& why);

/// Refetches the metadata of every connection configured by URL and stores each good copy (a failure keeps the
/// last good one and is logged). Blocking (the composition root runs it at start and every
/// saml_metadata_refresh). @returns how many fetches failed.
std::size_t refresh_metadata(app& a);

/// The stored copy of a connection's fetched metadata (meta "saml_metadata:<id>"), onto `k` when it was fetched
/// from k's current URL.
store::result<void> load_fetched_metadata(store::read_txn const& t, connection& k);
/// Stores `xml` as the copy fetched from `url` for connection `id` at `now`.
store::result<void> save_fetched_metadata(store::write_txn& w, std::string_view id, std::string_view url,
                                          std::string_view xml, std::int64_t now);

/// Starts the IdP round trip of an attempt for `email`: fills `flow` (state = AuthnRequest ID, nonce = connection
/// id, authorize_url = the IdP redirect) from the request's redirect_url / action_complete_redirect_url.
api_result<void> start(app& a, request_ctx const& ctx, std::string_view strategy, std::string_view email,
                       std::string const& attempt_id, store::oauth_flow_record& flow);

/// Adds (or refreshes) the enterprise account a sign-up's SAML flow proved on the user it creates.
void attach_to_user(store::sign_up_record const& su, store::user_record& u, std::int64_t now);

/// Clerk's EnterpriseAccount JSON.
boost::json::object enterprise_account_json(store::enterprise_account_record const& e);

// ---- routes ----
api_result<reply> acs(app& a, request_ctx& ctx);          ///< POST /v1/saml/acs/{connection_id}
api_result<reply> sp_metadata(app& a, request_ctx& ctx);  ///< GET /v1/saml/metadata/{connection_id}[.xml]

api_result<reply> list_connections(app& a, request_ctx& ctx);   ///< GET /v1/saml_connections
api_result<reply> create_connection(app& a, request_ctx& ctx);  ///< POST /v1/saml_connections
api_result<reply> get_connection(app& a, request_ctx& ctx);     ///< GET /v1/saml_connections/{id}
api_result<reply> update_connection(app& a, request_ctx& ctx);  ///< PATCH /v1/saml_connections/{id}
api_result<reply> delete_connection(app& a, request_ctx& ctx);  ///< DELETE /v1/saml_connections/{id}

}  // namespace latchkey::server::api::saml_sso
