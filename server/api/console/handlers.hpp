#pragma once
// The console's own routes on the backend listener (issue 23). See server/api/console/console.hpp.
#include "server/api/context.hpp"

namespace latchkey::server::api::console {

api_result<reply> open_link(app& a, request_ctx& ctx);        ///< GET /console/link?token=
api_result<reply> sign_in(app& a, request_ctx& ctx);          ///< POST /console/api/sign_in (hash pool)
api_result<reply> sign_out(app& a, request_ctx& ctx);         ///< POST /console/api/sign_out
api_result<reply> current_session(app& a, request_ctx& ctx);  ///< GET /console/api/session
api_result<reply> list_audit(app& a, request_ctx& ctx);       ///< GET /console/api/audit
api_result<reply> get_stats(app& a, request_ctx& ctx);        ///< GET /console/api/stats?range=hour|day|month
api_result<reply> get_page(app& a, request_ctx& ctx);         ///< GET /console, /console/ (the app's document)
api_result<reply> get_asset(app& a, request_ctx& ctx);        ///< GET /console/assets/{file}

}  // namespace latchkey::server::api::console
