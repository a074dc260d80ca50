// Operator features against the real server: GET /metrics (Prometheus text on the backend listener, by route
// pattern and status class, latency histograms, tokens minted, store size, registered gauges) and SIGHUP on the
// real binary (config and keys reloaded on a connection that stays open; a broken config is refused and the old
// one kept).
#include "server/metrics.hpp"
#include "tests/common/flows.hpp"
#include "tests/common/server_fixture.hpp"
#include "tests/common/spawn.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>

using namespace latchkey;
using namespace latchkey::test;
using namespace std::chrono_literals;

namespace {

using verb = http::verb;

/// The value of the series `name{labels}` ("" labels = none) in an exposition, or -1.
double sample(std::string const& text, std::string const& series) {
    auto const p = text.find("\n" + series + " ");
    if (p == std::string::npos) return -1;
    return std::stod(text.substr(p + series.size() + 2));
}

/// One keep-alive connection (requests in sequence on the same socket).
struct keep_alive {
    boost::asio::io_context ioc;
    boost::beast::tcp_stream stream{ioc};
    explicit keep_alive(unsigned short port) {
        stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
    }
    json::value get(std::string const& target) {
        http::request<http::string_body> req{verb::get, target, 11};
        req.set(http::field::host, "127.0.0.1");
        req.keep_alive(true);
        stream.expires_after(5s);
        http::write(stream, req);
        boost::beast::flat_buffer buf;
        http::response<http::string_body> res;
        http::read(stream, buf, res);
        BOOST_TEST_REQUIRE(res.result_int() == 200u, res.body());
        BOOST_TEST_REQUIRE(res.keep_alive());
        return json::parse(res.body());
    }
};

void write_file(std::string const& path, std::string const& text) {
    std::ofstream f(path, std::ios::trunc);
    f << text;
}

/// Runs the binary to completion with `stdin_path` as its input (or /dev/null); its stdout goes to `stdout_path`
/// when given. Returns the exit code.
int run_binary(std::vector<std::string> args, std::string const& stdout_path = {}, std::string const& stdin_path = {}) {
    int const pid = spawn_binary(std::move(args), stdin_path, stdout_path);
    if (pid < 0) return -1;
    int st = 0;
    ::waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::vector<json::object> json_lines(std::string const& path) {
    std::ifstream f(path);
    std::vector<json::object> out;
    std::string line;
    while (std::getline(f, line))
        if (!line.empty()) out.push_back(json::parse(line).as_object());
    return out;
}

json::object const* line_with_email(std::vector<json::object> const& lines, std::string const& email) {
    for (auto const& l : lines)
        for (auto const& e : l.at("email_addresses").as_array())
            if (e.at("email_address") == json::value(email)) return &l;
    return nullptr;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(operators)

BOOST_FIXTURE_TEST_CASE(metrics_by_route_pattern_status_and_latency, bapi_env) {
    http_client anon(s.bapi_port());
    expect_error(anon.request(verb::get, "/metrics"), 401, "authorization_header_missing");

    auto u1 = seed_user(s.app(), "m1@example.com");
    auto u2 = seed_user(s.app(), "m2@example.com");
    BOOST_TEST(b.bapi(verb::get, "/v1/users/" + u1).status == 200u);
    BOOST_TEST(b.bapi(verb::get, "/v1/users/" + u2).status == 200u);
    BOOST_TEST(b.bapi(verb::get, "/v1/users/user_missing").status == 404u);
    BOOST_TEST(b.bapi(verb::get, "/no/such/path/abc123").status == 404u);
    http_client f(s.fapi_port());
    BOOST_TEST(f.fapi("GET", "/v1/environment").status == 200u);
    auto client = seed_client(s.app());
    auto sid = seed_session(s.app(), client, u1);
    BOOST_TEST(b.bapi(verb::post, "/v1/sessions/" + sid + "/tokens").status == 200u);
    s.app().metrics->add_gauge("latchkey_test_queue_depth", "A gauge registered by another module.",
                               [] { return 7.0; });

    auto r = b.request(verb::get, "/metrics", {}, {{"Authorization", "Bearer " + s.secret_key()}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(r.headers["content-type"].starts_with("text/plain; version=0.0.4"));
    auto const& t = r.body;
    // One series per route pattern, never per raw path.
    BOOST_TEST(
        sample(t,
               R"(latchkey_http_requests_total{api="bapi",method="GET",route="/v1/users/{user_id}",status="2xx"})") ==
        2);
    BOOST_TEST(
        sample(t,
               R"(latchkey_http_requests_total{api="bapi",method="GET",route="/v1/users/{user_id}",status="4xx"})") ==
        1);
    BOOST_TEST(sample(t, R"(latchkey_http_requests_total{api="bapi",method="-",route="unmatched",status="4xx"})") == 1);
    BOOST_TEST(
        sample(t, R"(latchkey_http_requests_total{api="fapi",method="GET",route="/v1/environment",status="2xx"})") ==
        1);
    BOOST_TEST(t.find("user_missing") == std::string::npos);
    BOOST_TEST(t.find("abc123") == std::string::npos);
    BOOST_TEST(
        sample(
            t,
            R"(latchkey_http_request_duration_seconds_count{api="bapi",method="GET",route="/v1/users/{user_id}"})") ==
        3);
    BOOST_TEST(
        sample(
            t,
            R"(latchkey_http_request_duration_seconds_bucket{api="bapi",method="GET",route="/v1/users/{user_id}",le="+Inf"})") ==
        3);
    BOOST_TEST(
        sample(t,
               R"(latchkey_http_request_duration_seconds_sum{api="bapi",method="GET",route="/v1/users/{user_id}"})") >
        0);
    BOOST_TEST(sample(t, "latchkey_tokens_minted_total") >= 1);
    BOOST_TEST(sample(t, "latchkey_hash_pool_queue_depth") == 0);
    BOOST_TEST(sample(t, "latchkey_store_map_used_bytes") > 0);
    BOOST_TEST(sample(t, "latchkey_store_map_size_bytes") >= sample(t, "latchkey_store_map_used_bytes"));
    BOOST_TEST(sample(t, "latchkey_test_queue_depth") == 7);
}

BOOST_AUTO_TEST_CASE(metrics_count_hash_pool_requests) {
    test_server s;
    http_client f(s.fapi_port());
    // A sign-up hashes its password on the pool; afterwards the depth is back to 0 and the route is counted.
    BOOST_TEST(f.fapi("POST", "/v1/client/sign_ups",
                      {{"email_address", "pool@example.com"}, {"password", "correct horse battery staple"}})
                   .status == 200u);
    auto b = bapi_client(s);
    auto t = b.request(verb::get, "/metrics", {}, {{"Authorization", "Bearer " + s.secret_key()}}).body;
    BOOST_TEST(
        sample(t,
               R"(latchkey_http_requests_total{api="fapi",method="POST",route="/v1/client/sign_ups",status="2xx"})") ==
        1);
    BOOST_TEST(sample(t, "latchkey_hash_pool_queue_depth") == 0);
}

BOOST_AUTO_TEST_CASE(sighup_reloads_config_and_keys_keeps_connections) {
    char const* bin = std::getenv("LATCHKEY_BIN");
    BOOST_TEST_REQUIRE(bin != nullptr, "LATCHKEY_BIN must point at the latchkey binary");
    tmp_dir data;
    std::string const cfg = data.path + "/config.json";
    write_file(cfg, R"({"application_name":"Before","sign_up_mode":"public"})");
    auto srv = spawn_server(
        bin, data.path + "/d", {"--config", cfg},
        {"LATCHKEY_SECRET_KEY=sk_test_reloadreloadreload00001", "LATCHKEY_ACCESS_LOG=false", "LATCHKEY_THREADS=2"});
    child_reaper reap{srv.pid};

    keep_alive conn(srv.fapi);
    auto env = conn.get("/v1/environment");
    BOOST_TEST(env.at("user_settings").at("sign_up").at("mode") == "public");
    auto kids = [&] {
        std::vector<std::string> out;
        auto const jwks = conn.get("/.well-known/jwks.json");
        for (auto const& k : jwks.at("keys").as_array()) out.push_back(str(k.at("kid")));
        return out;
    };
    auto const kids_before = kids();

    // A new signing key and new settings, then SIGHUP: the same open connection sees both.
    BOOST_TEST_REQUIRE(run_binary({bin, "keys", "--rotate", "--data-dir", data.path + "/d"}) == 0);
    write_file(cfg, R"({"application_name":"After","sign_up_mode":"waitlist"})");
    BOOST_TEST_REQUIRE(::kill(srv.pid, SIGHUP) == 0);
    bool changed = false;
    for (int i = 0; i < 100 && !changed; ++i) {
        changed = conn.get("/v1/environment").at("user_settings").at("sign_up").at("mode") == "waitlist";
        if (!changed) std::this_thread::sleep_for(50ms);
    }
    BOOST_TEST_REQUIRE(changed);
    BOOST_TEST(conn.get("/v1/environment").at("display_config").at("application_name") == "After");
    BOOST_TEST(kids().size() == kids_before.size() + 1);

    // A broken file and an invalid setting are refused: the old config stays, the server keeps answering.
    for (auto const* bad :
         {R"({"application_name":"Broken",)", R"({"application_name":"Bad","sign_up_mode":"sometimes"})"}) {
        write_file(cfg, bad);
        BOOST_TEST_REQUIRE(::kill(srv.pid, SIGHUP) == 0);
        std::this_thread::sleep_for(300ms);
        auto e = conn.get("/v1/environment");
        BOOST_TEST(e.at("display_config").at("application_name") == "After");
        BOOST_TEST(e.at("user_settings").at("sign_up").at("mode") == "waitlist");
    }
    ::kill(srv.pid, SIGTERM);
    int st = 0;
    ::waitpid(srv.pid, &st, 0);
    reap.pid = 0;
    BOOST_TEST(WIFEXITED(st));
    BOOST_TEST(WEXITSTATUS(st) == 0);
}

BOOST_AUTO_TEST_CASE(users_command_beside_a_running_server) {
    char const* bin = std::getenv("LATCHKEY_BIN");
    BOOST_TEST_REQUIRE(bin != nullptr, "LATCHKEY_BIN must point at the latchkey binary");
    tmp_dir data;
    std::string const dir = data.path + "/d";
    auto srv = spawn_server(
        bin, dir, {},
        {"LATCHKEY_SECRET_KEY=sk_test_usersusersusers0000001", "LATCHKEY_ACCESS_LOG=false", "LATCHKEY_THREADS=2"});
    child_reaper reap{srv.pid};
    std::string const out = data.path + "/out.jsonl";

    // create: a user with a password, signed in through the running server's FAPI at once.
    BOOST_TEST_REQUIRE(run_binary({bin, "users", "create", "--email", "Admin@Example.com", "--password",
                                   "correct horse battery staple", "--first-name", "Ada", "--data-dir", dir},
                                  out) == 0);
    auto created = json_lines(out);
    BOOST_TEST_REQUIRE(created.size() == 1u);
    BOOST_TEST(str(created[0].at("id")).starts_with("user_"));
    BOOST_TEST(!created[0].contains("password_digest"));  // create and list never print digests
    auto sign_in = [&](std::string const& who, std::string const& pw) {
        http_client c(srv.fapi);
        auto r =
            c.fapi("POST", "/v1/client/sign_ins", {{"identifier", who}, {"strategy", "password"}, {"password", pw}});
        return r.status == 200u && response(r).at("status") == "complete";
    };
    BOOST_TEST(sign_in("admin@example.com", "correct horse battery staple"));
    // Refused: a taken address (exit 1), no address at all (exit 2).
    BOOST_TEST(run_binary({bin, "users", "create", "--email", "admin@example.com", "--data-dir", dir}, out) == 1);
    BOOST_TEST(run_binary({bin, "users", "create", "--first-name", "Nobody", "--data-dir", dir}, out) == 2);

    // import: foreign bcrypt and argon2id digests, a plain password, a bad line and a taken address.
    std::string const in = data.path + "/in.jsonl";
    write_file(
        in,
        R"({"email_address":"bc@example.com","password_digest":"$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW","password_hasher":"bcrypt","first_name":"Bee","public_metadata":{"plan":"pro"}})"
        "\n"
        R"({"email_addresses":[{"email_address":"ar@example.com","verified":true}],"password_digest":"$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"})"
        "\n"
        R"({"email_address":"plain@example.com","password":"another fine password"})"
        "\n"
        R"({"email_address":"not-an-email"})"
        "\n"
        R"({"email_address":"admin@example.com"})"
        "\n"
        "{broken\n");
    BOOST_TEST(run_binary({bin, "users", "import", "--in", in, "--data-dir", dir}, out) == 1);
    auto summary = json_lines(out);
    BOOST_TEST_REQUIRE(summary.size() == 1u);
    BOOST_TEST(summary[0].at("imported") == 3);
    BOOST_TEST(summary[0].at("failed") == 3);

    // The running server signs the imported users in with their old passwords (checked with the foreign hash).
    BOOST_TEST(sign_in("bc@example.com", "U*U"));
    BOOST_TEST(!sign_in("ar@example.com", "wrong password"));
    BOOST_TEST(sign_in("plain@example.com", "another fine password"));

    // export: every user as JSON lines; the bcrypt user's digest was re-hashed with ours at that sign-in, the
    // argon2id import (never signed in) keeps its foreign parameters.
    BOOST_TEST_REQUIRE(run_binary({bin, "users", "export", "--out", out, "--data-dir", dir}) == 0);
    struct stat st {};
    BOOST_TEST(::stat(out.c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0600u);
    auto lines = json_lines(out);
    BOOST_TEST(lines.size() == 4u);
    auto const* bc = line_with_email(lines, "bc@example.com");
    BOOST_TEST_REQUIRE(bc != nullptr);
    BOOST_TEST(bc->at("password_hasher") == "argon2id");
    BOOST_TEST(str(bc->at("password_digest")).find("m=19456") != std::string::npos);
    BOOST_TEST(bc->at("public_metadata").at("plan") == "pro");
    auto const* ar = line_with_email(lines, "ar@example.com");
    BOOST_TEST_REQUIRE(ar != nullptr);
    BOOST_TEST(str(ar->at("password_digest")).find("m=256") != std::string::npos);

    // The export imports again into a fresh data dir (the round trip keeps ids and digests).
    std::string const other = data.path + "/other";
    std::string const summary_path = data.path + "/summary.jsonl";
    BOOST_TEST(run_binary({bin, "users", "import", "--data-dir", other}, summary_path, out) == 0);
    BOOST_TEST(json_lines(summary_path)[0].at("imported") == 4);
    BOOST_TEST_REQUIRE(run_binary({bin, "users", "list", "--query", "bc@", "--data-dir", other}, out) == 0);
    auto listed = json_lines(out);
    BOOST_TEST_REQUIRE(listed.size() == 1u);
    BOOST_TEST(listed[0].at("id") == bc->at("id"));
    BOOST_TEST(!listed[0].contains("password_digest"));
}

BOOST_AUTO_TEST_SUITE_END()
