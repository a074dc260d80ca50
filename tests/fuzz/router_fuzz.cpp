// Fuzz: path matching against the real FAPI and BAPI route tables.
#include "harness.hpp"
#include "server/api/context.hpp"

#include <cstdint>
#include <string>

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
