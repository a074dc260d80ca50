// Fuzz: every request reader behind the real dispatch: raw bytes become a BAPI JSON body and a FAPI form body
// sent to the running handlers through api_service (no sockets), so the JSON/form field readers of each
// handler see hostile input. The invariant: a response always comes back, with a valid status.
#include "server/api/dispatch.hpp"
#include "server/run.hpp"
#include "tests/common/server_fixture.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <cstdint>
#include <string>
#include <vector>

std::vector<std::string> fuzz_seeds() {
    return {R"({"email_address":["a@b.c"],"password":"correct horse battery"})", R"({"limit":-1,"offset":"x"})",
            R"({"public_metadata":{"a":[1,2,{"b":null}]}})", R"({"token":"a.b.c"})", "[]", "{", "\"x\"",
            R"({"name":"t","claims":{"x":"{{user.id}}"},"lifetime":60})"};
}

namespace {
struct harness {
    latchkey::test::test_server srv;
};
harness& h() {
    static harness instance;
    return instance;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    using namespace latchkey;
    static char const* const bapi_paths[] = {"/v1/users", "/v1/jwt_templates", "/v1/clients/verify",
                                             "/v1/email_addresses", "/v1/phone_numbers"};
    static char const* const fapi_paths[] = {"/v1/client/sign_ins", "/v1/client/sign_ups", "/v1/client"};
    std::string body(reinterpret_cast<char const*>(data), size);
    test::http_client c(h().srv.bapi_port());
    c.secret_key = h().srv.secret_key();
    auto const* path = bapi_paths[size % (sizeof bapi_paths / sizeof *bapi_paths)];
    auto r = c.request(test::http::verb::post, path, body,
                       {{"Authorization", "Bearer " + c.secret_key}, {"Content-Type", "application/json"}});
    if (r.status < 200 || r.status >= 600 || r.status == 500) __builtin_trap();
    test::http_client f(h().srv.fapi_port());
    auto const* fpath = fapi_paths[size % (sizeof fapi_paths / sizeof *fapi_paths)];
    auto r2 = f.request(test::http::verb::post, fpath, body, {{"Content-Type", "application/x-www-form-urlencoded"}});
    if (r2.status < 200 || r2.status >= 600 || r2.status == 500) __builtin_trap();
    return 0;
}
