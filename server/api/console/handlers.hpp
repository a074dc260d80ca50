#pragma once
// The console's own routes on the backend listener (issue 23). See server/api/console/console.hpp.
#include "server/api/context.hpp"

#include <boost/json/array.hpp>

namespace latchkey::crypto {
class keyring;
}

namespace latchkey::server::api::console {

api_result<reply> open_link(app& a, request_ctx& ctx);        ///< GET /console/link?token=
api_result<reply> sign_in(app& a, request_ctx& ctx);          ///< POST /console/api/sign_in (hash pool)
api_result<reply> sign_out(app& a, request_ctx& ctx);         ///< POST /console/api/sign_out
api_result<reply> current_session(app& a, request_ctx& ctx);  ///< GET /console/api/session
api_result<reply> list_audit(app& a, request_ctx& ctx);       ///< GET /console/api/audit
api_result<reply> get_stats(app& a, request_ctx& ctx);        ///< GET /console/api/stats?range=hour|day|month
api_result<reply> get_page(app& a, request_ctx& ctx);         ///< GET /console, /console/ (the app's document)
api_result<reply> get_asset(app& a, request_ctx& ctx);        ///< GET /console/assets/{file}

// ---- the remaining pages (server/api/console/pages.cpp) ----
api_result<reply> get_instance_page(app& a, request_ctx& ctx);    ///< GET /console/api/instance
api_result<reply> list_operators(app& a, request_ctx& ctx);       ///< GET /console/api/operators (admins)
api_result<reply> create_operator(app& a, request_ctx& ctx);      ///< POST /console/api/operators (hash pool)
api_result<reply> update_operator(app& a, request_ctx& ctx);      ///< PATCH /console/api/operators/{operator_id}
api_result<reply> delete_operator(app& a, request_ctx& ctx);      ///< DELETE /console/api/operators/{operator_id}
api_result<reply> reset_operator_totp(app& a, request_ctx& ctx);  ///< POST .../{operator_id}/reset_totp
/// GET /v1/jwt_templates/{template_id}/preview?user_id= : the template's claims rendered for the user.
api_result<reply> preview_jwt_template(app& a, request_ctx& ctx);
api_result<reply> list_webhook_deliveries(app& a, request_ctx& ctx);  ///< GET /v1/webhook_deliveries
api_result<reply> retry_webhook_delivery(app& a, request_ctx& ctx);   ///< POST /v1/webhook_deliveries/{id}/retry
/// GET /v1/exports/users?format=clerk-csv|clerk-json (on the pool: the whole file is built in memory).
api_result<reply> export_users(app& a, request_ctx& ctx);

// ---- signing keys (server/api/console/keys.cpp) ----
api_result<reply> list_signing_keys(app& a, request_ctx& ctx);   ///< GET /v1/signing_keys
api_result<reply> rotate_signing_key(app& a, request_ctx& ctx);  ///< POST /v1/signing_keys (pool: RSA keygen)
api_result<reply> retire_signing_key(app& a, request_ctx& ctx);  ///< DELETE /v1/signing_keys/{kid}
/// The keys of `ring` as the console shows them, the active key first.
boost::json::array signing_keys_json(crypto::keyring const& ring);

}  // namespace latchkey::server::api::console
