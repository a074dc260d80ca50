// BAPI GET /v1/instance: the instance object (id, environment type, allowed origins, FAPI URL and
// key).
#include "server/api/backend/common.hpp"
#include "server/api/backend/handlers.hpp"

namespace latchkey::server::api::backend {

namespace json = boost::json;

api_result<reply> get_instance(app& a, request_ctx&) {
    json::object o;
    o["object"] = "instance";
    o["id"] = a.inst.id;
    o["environment_type"] = a.inst.production ? "production" : "development";
    json::array origins;
    for (auto const& x : a.cfg.allowed_origins) origins.push_back(json::value(x));
    o["allowed_origins"] = std::move(origins);
    o["workspace_id"] = nullptr;  // required by the spec; a self-hosted instance belongs to no Clerk workspace
    o["publishable_key"] = a.inst.publishable_key;
    o["frontend_api"] = a.inst.frontend_api;
    return json_reply(o);
}

}  // namespace latchkey::server::api::backend
