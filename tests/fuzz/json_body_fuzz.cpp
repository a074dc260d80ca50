// Fuzz: every request reader behind the real dispatch: raw bytes become a BAPI JSON body and a FAPI form body
// handed to the real handlers through api_service::handle (no sockets), so the JSON/form field readers of
// each handler see hostile input. The invariant: a response always comes back, with a valid status (never 500).
#include "harness.hpp"
#include "server/api/dispatch.hpp"
#include "server/run.hpp"
#include "tests/common/server_fixture.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <cstdint>
#include <string>

namespace {
namespace net = boost::asio;
namespace api = latchkey::server::api;
using latchkey::server::request;
using latchkey::server::response;

/// The real app (a test server's store, keys and config; durable commits off) with the real route tables
/// and dispatch, driven in-process: a request goes through api_service::handle exactly as the transport
/// hands it over, without the loopback round trip, so the target runs at thousands of executions per second.
struct harness {
    latchkey::test::test_server srv{[](latchkey::conf::config& c) {
        c.durable = false;
        c.map_size = 32ull << 30;  // every FAPI POST without a cookie creates a client: room for 10 M executions
    }};
    api::route_table fapi_routes = api::frontend_routes();
    api::route_table bapi_routes = api::backend_routes();
    net::thread_pool pool{1};
    api::api_service fapi{srv.app(), fapi_routes, api::api_kind::frontend, pool.get_executor()};
    api::api_service bapi{srv.app(), bapi_routes, api::api_kind::backend, pool.get_executor()};
    net::io_context ioc{1};
    latchkey::server::connection_info ci{"127.0.0.1", false};

    unsigned run(api::api_service& svc, request& req) {
        response res;
        net::co_spawn(ioc, svc.handle(req, res, ci), net::detached);
        ioc.restart();
        ioc.run();
        return res.result_int();
    }
};
harness& h() {
    static harness instance;
    return instance;
}

request make(std::string_view target, std::string const& body, std::string_view content_type) {
    request r{latchkey::server::http::verb::post, target, 11};
    r.set(latchkey::server::http::field::host, "127.0.0.1");
    r.set(latchkey::server::http::field::content_type, content_type);
    r.body() = body;
    r.prepare_payload();
    return r;
}
}  // namespace

void fuzz_one(std::string_view in) {
    static char const* const bapi_paths[] = {"/v1/users", "/v1/jwt_templates", "/v1/clients/verify",
                                             "/v1/email_addresses", "/v1/phone_numbers"};
    static char const* const fapi_paths[] = {"/v1/client/sign_ins", "/v1/client/sign_ups", "/v1/client"};
    auto& hh = h();
    std::string body(in);
    auto breq = make(bapi_paths[in.size() % (sizeof bapi_paths / sizeof *bapi_paths)], body, "application/json");
    breq.set(latchkey::server::http::field::authorization, "Bearer " + hh.srv.secret_key());
    auto st = hh.run(hh.bapi, breq);
    if (st < 200 || st >= 600 || st == 500) __builtin_trap();
    auto freq = make(fapi_paths[in.size() % (sizeof fapi_paths / sizeof *fapi_paths)], body,
                     "application/x-www-form-urlencoded");
    auto st2 = hh.run(hh.fapi, freq);
    if (st2 < 200 || st2 >= 600 || st2 == 500) __builtin_trap();
}
