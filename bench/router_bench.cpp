// Router match over THE route tables (server/api/routes.cpp): literal, one capture, BAPI, miss.
#include "server/api/context.hpp"

#include <benchmark/benchmark.h>

namespace {

using latchkey::server::path_params;
namespace api = latchkey::server::api;
namespace http = latchkey::server::http;

api::route_table const& fapi() {
    static api::route_table const t = api::frontend_routes();
    return t;
}
api::route_table const& bapi() {
    static api::route_table const t = api::backend_routes();
    return t;
}

void run(benchmark::State& state, api::route_table const& t, http::verb v, std::string_view path) {
    path_params p;
    for (auto _ : state) {
        auto m = t.find(v, path, p);
        benchmark::DoNotOptimize(m.payload);
    }
    state.SetItemsProcessed(state.iterations());
}

void BM_router_fapi_get_client(benchmark::State& s) { run(s, fapi(), http::verb::get, "/v1/client"); }
void BM_router_fapi_health(benchmark::State& s) { run(s, fapi(), http::verb::get, "/v1/health"); }
void BM_router_fapi_session_tokens(benchmark::State& s) {
    run(s, fapi(), http::verb::post, "/v1/client/sessions/sess_2pXq1vZ0b8kYc9mN4rT6uW3eLhA/tokens");
}
void BM_router_bapi_get_user(benchmark::State& s) {
    run(s, bapi(), http::verb::get, "/v1/users/user_2pXq1vZ0b8kYc9mN4rT6uW3eLhA");
}
void BM_router_fapi_not_found(benchmark::State& s) { run(s, fapi(), http::verb::get, "/v1/nope/at/all"); }
void BM_router_fapi_method_not_allowed(benchmark::State& s) { run(s, fapi(), http::verb::patch, "/v1/client"); }

BENCHMARK(BM_router_fapi_get_client);
BENCHMARK(BM_router_fapi_health);
BENCHMARK(BM_router_fapi_session_tokens);
BENCHMARK(BM_router_bapi_get_user);
BENCHMARK(BM_router_fapi_not_found);
BENCHMARK(BM_router_fapi_method_not_allowed);

}  // namespace
