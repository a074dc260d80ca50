#pragma once
// The per-request context handed to handlers, the handler signature and the route-table entry type.
#include "server/api/app.hpp"
#include "server/api/error.hpp"
#include "server/http/params.hpp"
#include "server/http/router.hpp"
#include "server/http/types.hpp"

#include <boost/json/value.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace latchkey::server::api {

struct request_ctx {
    explicit request_ctx(request const& r) : req(r) {}

    request const& req;
    http::verb method = http::verb::unknown;  ///< effective method (after a `_method` override)
    std::string path;                         ///< routed path (FAPI prefix removed, no query)
    path_params params;                       ///< path captures
    server::params query;
    server::params form;      ///< FAPI form body (JSON bodies are flattened into it too)
    boost::json::value body;  ///< BAPI JSON body (an object; null when the request had none)
    server::params cookies;
    std::string request_id;
    std::string remote_ip;
    std::string origin;    ///< the Origin header ("" if none)
    std::string azp;       ///< the token's authorized party: Origin, else the Referer's origin, else the proxy's
    std::int64_t now = 0;  ///< ms since epoch, fixed for the whole request

    // ---- FAPI identity, resolved by dispatch for auth::fapi routes ----
    std::string client_id;       ///< "" = this browser has no client yet
    std::string dev_browser_id;  ///< set when the request carried a valid dev-browser token
    bool native = false;         ///< the client came from an Authorization header (native apps)
    bool cookie_auth = false;    ///< the client came from the __client cookie

    // ---- response extras ----
    std::vector<std::string> set_cookies;
    std::vector<std::pair<std::string, std::string>> headers;

    // ---- the admin console (issue 23): set by dispatch when a BAPI request is authorised by a console session
    std::string console_operator_id;  ///< "" = not a console request
    std::string console_operator_name;
    std::string console_session_id;
};

/// A successful reply: status and a JSON body (or empty for 204). `location` makes it a redirect.
/// A static file (an SDK bundle, the default avatar) names its `content_type` instead: dispatch then sends the
/// caching and CORS headers its handler put in `request_ctx::headers` rather than the FAPI's (no-store,
/// credentialed CORS), and its `static_body` (data embedded in the binary) goes out without a copy.
struct reply {
    http::status status = http::status::ok;
    std::string body;
    std::string location;
    std::string_view content_type{};  ///< "" = JSON
    std::string_view static_body{};   ///< valid for the whole process; takes the place of `body`
};

using handler_fn = api_result<reply> (*)(app&, request_ctx&);

enum class auth_policy {
    none,        ///< public
    secret_key,  ///< BAPI: Authorization: Bearer sk_...
    fapi,        ///< FAPI: resolve the client from dev browser / Authorization / __client cookie
};

enum class exec_policy {
    io,         ///< runs on the I/O thread (no password hashing inside)
    hash_pool,  ///< may hash or verify passwords: runs on the hash pool, off the I/O threads
};

struct route_entry {
    handler_fn fn = nullptr;
    auth_policy auth = auth_policy::none;
    exec_policy exec = exec_policy::io;
};

using route_table = router<route_entry>;

/// THE route tables (server/api/routes.cpp), in spec order.
route_table frontend_routes();
route_table backend_routes();

}  // namespace latchkey::server::api
