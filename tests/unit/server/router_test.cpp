// The path-template router, and THE route tables: every route in routes.cpp builds and finds itself.
#include "server/http/router.hpp"
#include "server/api/context.hpp"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

using namespace latchkey::server;
namespace http = boost::beast::http;

namespace {

using table = router<int>;

table sample() {
    table r;
    r.add(http::verb::get, "/v1/users/{user_id}", 1);
    r.add(http::verb::get, "/v1/users/count", 2);  // literal registered after the capture still wins
    r.add(http::verb::delete_, "/v1/users/{user_id}", 3);
    r.add(http::verb::get, "/v1/users", 4);
    r.add(http::verb::post, "/v1/users", 5);
    r.add(http::verb::post, "/v1/sessions/{session_id}/tokens/{template}", 6);
    r.add(http::verb::post, "/v1/me/email_addresses/", 7);  // trailing slash: an empty literal segment
    r.add(http::verb::get, "/", 8);
    return r;
}

int found(table const& r, http::verb m, std::string_view path, path_params& p) {
    auto res = r.find(m, path, p);
    BOOST_TEST_REQUIRE((res.result == table::outcome::found), path);
    BOOST_TEST_REQUIRE(res.payload != nullptr);
    return *res.payload;
}

table::outcome outcome_of(table const& r, http::verb m, std::string_view path) {
    path_params p;
    return r.find(m, path, p).result;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(router_tests)

BOOST_AUTO_TEST_CASE(literal_beats_capture) {
    auto r = sample();
    path_params p;
    BOOST_TEST(found(r, http::verb::get, "/v1/users/count", p) == 2);
    BOOST_TEST(p.get("user_id").empty());
    BOOST_TEST(found(r, http::verb::get, "/v1/users/user_123", p) == 1);
    BOOST_TEST(p.get("user_id") == "user_123");
    BOOST_TEST(found(r, http::verb::get, "/v1/users", p) == 4);
    BOOST_TEST(found(r, http::verb::post, "/v1/users", p) == 5);
    BOOST_TEST(found(r, http::verb::get, "/", p) == 8);

    // Registration order does not matter.
    table rev;
    rev.add(http::verb::get, "/a/b", 1);
    rev.add(http::verb::get, "/a/{x}", 2);
    BOOST_TEST(found(rev, http::verb::get, "/a/b", p) == 1);
    BOOST_TEST(found(rev, http::verb::get, "/a/c", p) == 2);
    BOOST_TEST(p.get("x") == "c");
}

BOOST_AUTO_TEST_CASE(several_captures) {
    auto r = sample();
    path_params p;
    BOOST_TEST(found(r, http::verb::post, "/v1/sessions/sess_1/tokens/supabase", p) == 6);
    BOOST_TEST(p.get("session_id") == "sess_1");
    BOOST_TEST(p.get("template") == "supabase");
    BOOST_TEST(p.get("nope").empty());
}

BOOST_AUTO_TEST_CASE(not_found_cases) {
    auto r = sample();
    for (std::string_view path :
         {"/v2/users", "/v1/users/a/b", "/v1/user", "/v1/users/", "", "v1/users", "/v1/sessions/s/tokens/",
          "/v1/sessions//tokens/t", "/v1/me/email_addresses", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n"})
        BOOST_TEST((outcome_of(r, http::verb::get, path) == table::outcome::not_found), path);
    // The empty-segment literal matches only itself.
    path_params p;
    BOOST_TEST(found(r, http::verb::post, "/v1/me/email_addresses/", p) == 7);
}

BOOST_AUTO_TEST_CASE(method_not_allowed_lists_allowed_verbs) {
    auto r = sample();
    path_params p;
    auto m = r.find(http::verb::put, "/v1/users/user_1", p);
    BOOST_TEST((m.result == table::outcome::method_not_allowed));
    BOOST_TEST(m.payload == nullptr);
    BOOST_TEST(m.allow == "GET, DELETE");

    // Both GET routes match "/v1/users/count" by shape: GET is listed once, with DELETE from the capture.
    auto c = r.find(http::verb::post, "/v1/users/count", p);
    BOOST_TEST((c.result == table::outcome::method_not_allowed));
    BOOST_TEST(c.allow == "GET, DELETE");

    auto list = r.find(http::verb::delete_, "/v1/users", p);
    BOOST_TEST((list.result == table::outcome::method_not_allowed));
    BOOST_TEST(list.allow == "GET, POST");

    auto tokens = r.find(http::verb::get, "/v1/sessions/s/tokens/t", p);
    BOOST_TEST((tokens.result == table::outcome::method_not_allowed));
    BOOST_TEST(tokens.allow == "POST");
}

BOOST_AUTO_TEST_CASE(captures_are_percent_decoded) {
    auto r = sample();
    path_params p;
    BOOST_TEST(found(r, http::verb::get, "/v1/users/a%20b", p) == 1);
    BOOST_TEST(p.get("user_id") == "a b");
    BOOST_TEST(found(r, http::verb::get, "/v1/users/a+b", p) == 1);
    BOOST_TEST(p.get("user_id") == "a+b");  // '+' is a space only in form bodies
    BOOST_TEST(found(r, http::verb::get, "/v1/users/x%2Fy", p) == 1);
    BOOST_TEST(p.get("user_id") == "x/y");  // an encoded slash stays inside the capture
    BOOST_TEST(found(r, http::verb::get, "/v1/users/%e2%9c%93", p) == 1);
    BOOST_TEST(p.get("user_id") == "\xe2\x9c\x93");
    // A malformed escape is not a match, and the literal is still compared undecoded.
    for (std::string_view bad : {"/v1/users/%zz", "/v1/users/abc%", "/v1/users/%4"})
        BOOST_TEST((outcome_of(r, http::verb::get, bad) == table::outcome::not_found), bad);
    BOOST_TEST(found(r, http::verb::get, "/v1/users/coun%74", p) == 1);
    BOOST_TEST(p.get("user_id") == "count");

    std::string out = "keep:";
    BOOST_TEST(percent_decode("a%41+%7e", out));
    BOOST_TEST(out == "keep:aA+~");
    out.clear();
    BOOST_TEST(percent_decode("a+b", out, true));
    BOOST_TEST(out == "a b");
    out.clear();
    BOOST_TEST(!percent_decode("%G0", out));
}

BOOST_AUTO_TEST_CASE(bad_patterns_and_duplicates_throw) {
    table r;
    r.add(http::verb::get, "/v1/users/{user_id}", 1);
    BOOST_CHECK_THROW(r.add(http::verb::get, "/v1/users/{id}", 2), std::invalid_argument);  // same shape
    BOOST_CHECK_THROW(r.add(http::verb::get, "/v1/users/{user_id}", 2), std::invalid_argument);
    BOOST_CHECK_NO_THROW(r.add(http::verb::patch, "/v1/users/{id}", 3));  // another verb is fine
    BOOST_CHECK_NO_THROW(r.add(http::verb::get, "/v1/users/me", 4));      // a literal is another shape
    BOOST_CHECK_THROW(r.add(http::verb::get, "/v1/users/me", 5), std::invalid_argument);
    BOOST_CHECK_THROW(r.add(http::verb::get, "", 6), std::invalid_argument);
    BOOST_CHECK_THROW(r.add(http::verb::get, "v1/users", 6), std::invalid_argument);
    BOOST_CHECK_THROW(r.add(http::verb::get, "/v1/{open", 6), std::invalid_argument);
    BOOST_CHECK_THROW(r.add(http::verb::get, "/v1/a{b}", 6), std::invalid_argument);
    BOOST_CHECK_THROW(r.add(http::verb::get, "/v1/close}", 6), std::invalid_argument);
    BOOST_CHECK_THROW(r.add(http::verb::get, "/{a}/{b}/{c}/{d}/{e}", 6), std::invalid_argument);
    BOOST_CHECK_NO_THROW(r.add(http::verb::get, "/{a}/{b}/{c}/{d}", 7));
    BOOST_TEST(r.size() == 4u);
}

BOOST_AUTO_TEST_CASE(path_params_capacity) {
    path_params p;
    for (int i = 0; i < 6; ++i) p.push(i % 2 == 0 ? "even" : "odd", std::to_string(i));
    BOOST_TEST(p.get("even") == "0");
    BOOST_TEST(p.get("odd") == "1");
    p.clear();
    BOOST_TEST(p.get("even").empty());
}

namespace {

struct table_line {
    std::string method, pattern, handler, auth, exec;
};

/// The r.add(...) lines of one function of routes.cpp ("frontend_routes" / "backend_routes").
std::vector<table_line> routes_in_source(std::string const& function) {
    std::ifstream in(std::string(LATCHKEY_SOURCE_DIR) + "/server/api/routes.cpp");
    BOOST_TEST_REQUIRE(static_cast<bool>(in));
    std::stringstream ss;
    ss << in.rdbuf();
    std::string src = ss.str();
    auto start = src.find("route_table " + function + "()");
    BOOST_TEST_REQUIRE(start != std::string::npos);
    auto end = src.find("return r;", start);
    std::regex line(R"re(r\.add\((\w+),\s*"([^"]*)"[^{]*\{\s*\w+::(\w+),\s*(\w+),\s*(\w+)\s*\}\);)re");
    std::vector<table_line> out;
    std::string body = src.substr(start, end - start);
    for (std::sregex_iterator it(body.begin(), body.end(), line), e; it != e; ++it)
        out.push_back({(*it)[1], (*it)[2], (*it)[3], (*it)[4], (*it)[5]});
    return out;
}

http::verb verb_of(std::string const& m) {
    if (m == "get") return http::verb::get;
    if (m == "post") return http::verb::post;
    if (m == "put") return http::verb::put;
    if (m == "patch") return http::verb::patch;
    if (m == "delete_") return http::verb::delete_;
    BOOST_FAIL("unknown verb in routes.cpp: " + m);
    return http::verb::unknown;
}

/// The pattern with every {capture} replaced by a sample value.
std::string instantiate(std::string const& pattern) {
    return std::regex_replace(pattern, std::regex(R"(\{(\w+)\})"), "v_$1");
}

void check_table(latchkey::server::api::route_table const& t, std::vector<table_line> const& lines) {
    using latchkey::server::api::auth_policy;
    using latchkey::server::api::exec_policy;
    BOOST_TEST_REQUIRE(!lines.empty());
    BOOST_TEST(t.size() == lines.size());  // the regex saw every route
    std::map<std::string, latchkey::server::api::handler_fn> fn_of;
    for (auto const& l : lines) {
        path_params p;
        auto path = instantiate(l.pattern);
        auto m = t.find(verb_of(l.method), path, p);
        BOOST_TEST_REQUIRE((m.result == latchkey::server::api::route_table::outcome::found), l.method << " " << path);
        BOOST_TEST(m.payload->fn != nullptr, l.pattern);
        auto want_auth = l.auth == "none"   ? auth_policy::none
                         : l.auth == "fapi" ? auth_policy::fapi
                                            : auth_policy::secret_key;
        BOOST_TEST((m.payload->auth == want_auth), l.method << " " << l.pattern);
        auto want_exec = l.exec == "pool" ? exec_policy::hash_pool : exec_policy::io;
        BOOST_TEST((m.payload->exec == want_exec), l.method << " " << l.pattern);
        // The route found is this line's: the same handler name always resolves to the same function.
        auto [it, fresh] = fn_of.emplace(l.handler, m.payload->fn);
        BOOST_TEST((fresh || it->second == m.payload->fn), l.pattern << " -> " << l.handler);
        // Every capture came back decoded under its own name.
        std::smatch cap;
        std::string rest = l.pattern;
        while (std::regex_search(rest, cap, std::regex(R"(\{(\w+)\})"))) {
            BOOST_TEST(p.get(cap[1].str()) == "v_" + cap[1].str(), l.pattern);
            rest = cap.suffix();
        }
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(frontend_routes_each_find_themselves) {
    latchkey::server::api::route_table t;
    BOOST_REQUIRE_NO_THROW(t = latchkey::server::api::frontend_routes());
    check_table(t, routes_in_source("frontend_routes"));
    // Spot checks on the policies clerk-js depends on.
    path_params p;
    auto env = t.find(http::verb::get, "/v1/environment", p);
    BOOST_TEST_REQUIRE((env.result == latchkey::server::api::route_table::outcome::found));
    BOOST_TEST((env.payload->auth == latchkey::server::api::auth_policy::none));
    auto touch = t.find(http::verb::patch, "/v1/environment", p);
    BOOST_TEST_REQUIRE((touch.result == latchkey::server::api::route_table::outcome::found));
    BOOST_TEST((touch.payload->auth == latchkey::server::api::auth_policy::fapi));
    auto sign_in = t.find(http::verb::post, "/v1/client/sign_ins", p);
    BOOST_TEST_REQUIRE((sign_in.result == latchkey::server::api::route_table::outcome::found));
    BOOST_TEST((sign_in.payload->exec == latchkey::server::api::exec_policy::hash_pool));
    // The BAPI's paths are not FAPI routes.
    BOOST_TEST(
        (t.find(http::verb::get, "/v1/users", p).result == latchkey::server::api::route_table::outcome::not_found));
    BOOST_TEST(
        (t.find(http::verb::get, "/v1/jwks", p).result == latchkey::server::api::route_table::outcome::not_found));
}

BOOST_AUTO_TEST_CASE(backend_routes_each_find_themselves) {
    latchkey::server::api::route_table t;
    BOOST_REQUIRE_NO_THROW(t = latchkey::server::api::backend_routes());
    auto lines = routes_in_source("backend_routes");
    check_table(t, lines);
    // Every BAPI route needs the secret key, but the console's (issue 23): its page and assets are public, its
    // link and sign-in make the session, and its API handlers authorise that session themselves.
    for (auto const& l : lines) BOOST_TEST((l.auth == "sk" || l.pattern.starts_with("/console")), l.pattern);
    path_params p;
    BOOST_TEST((t.find(http::verb::get, "/v1/environment", p).result ==
                latchkey::server::api::route_table::outcome::not_found));
    BOOST_TEST(
        (t.find(http::verb::get, "/v1/client", p).result == latchkey::server::api::route_table::outcome::not_found));
    auto count = t.find(http::verb::get, "/v1/users/count", p);
    BOOST_TEST_REQUIRE((count.result == latchkey::server::api::route_table::outcome::found));
    auto user = t.find(http::verb::get, "/v1/users/user_1", p);
    BOOST_TEST_REQUIRE((user.result == latchkey::server::api::route_table::outcome::found));
    BOOST_TEST(count.payload->fn != user.payload->fn);  // the literal, not the capture
}

BOOST_AUTO_TEST_SUITE_END()
