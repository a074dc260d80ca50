// Fuzz: path matching against the real FAPI and BAPI route tables.
#include "harness.hpp"
#include "server/api/context.hpp"

#include <cstdint>
#include <string>
#include <vector>

std::vector<std::string> fuzz_seeds() {
    return {"/v1/client",
            "/v1/client/sessions/sess_1/tokens/tpl",
            "/v1/users/user_%41%42/ban",
            "/v1/me/sessions/active",
            "//",
            "/v1/users/%zz",
            "/.well-known/jwks.json"};
}

void fuzz_one(std::string_view in) {
    using namespace latchkey::server;
    static api::route_table const f = api::frontend_routes();
    static api::route_table const b = api::backend_routes();
    path_params params;
    for (auto v : {http::verb::get, http::verb::post, http::verb::patch, http::verb::delete_}) {
        auto m1 = f.find(v, in, params);
        auto m2 = b.find(v, in, params);
        if (m1.result == api::route_table::outcome::found && m1.payload == nullptr) __builtin_trap();
        if (m2.result == api::route_table::outcome::method_not_allowed && m2.allow.empty()) __builtin_trap();
    }
}
