// Well-known documents, health and the dev browser.
#include "server/api/frontend/handlers.hpp"
#include "server/api/txn.hpp"

#include "crypto/keys.hpp"
#include "crypto/random.hpp"
#include "server/api/frontend/common.hpp"

#include <boost/json/serialize.hpp>

namespace latchkey::server::api::frontend {

namespace json = boost::json;

api_result<reply> get_jwks(app& a, request_ctx&) { return reply{http::status::ok, crypto::jwks_json(a.keys), {}}; }

api_result<reply> get_health(app&, request_ctx&) { return reply{http::status::ok, R"({"status":"ok"})", {}}; }

api_result<reply> create_dev_browser(app& a, request_ctx& ctx) {
    if (a.inst.production) return make_error(code::resource_not_found);
    store::dev_browser_record d;
    d.id = "dvb_" + crypto::random_token(24);
    d.created_at = ctx.now;
    auto r = txn::write(a, "create_dev_browser", txn::on_client_error::abort,
                        [&](store::write_txn& w) { return w.dev_browsers().put(d); });
    if (!r) return r.error();
    json::object o;
    o["object"] = "dev_browser";
    o["id"] = d.id;
    o["instance_id"] = a.inst.id;
    o["created_at"] = ctx.now;
    o["updated_at"] = ctx.now;
    return reply{http::status::ok, json::serialize(o), {}};
}

}  // namespace latchkey::server::api::frontend
