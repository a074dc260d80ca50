// Two latchkey processes on one PostgreSQL (issue 16, store/pg): a throwaway PostgreSQL started by the test
// (tests/common/pg_fixture.hpp), migrated with `latchkey migrate`, and two real binaries sharing the instance's
// keys, each with its own LMDB replica. A user created on A signs in on B; a session revoked on B stops minting on A
// within 1 s; PostgreSQL stopped: writes answer a Clerk-shaped 503 while mint for live sessions keeps working, and
// writes succeed again once it is back; kill -9 of a node in a write storm loses no acknowledged write; the LMDB
// replica copies to an empty PostgreSQL store and back (`latchkey store copy`); a node started while PostgreSQL is
// down serves mints from its replica, answers writes 503 and catches up once PostgreSQL is back. Skipped, saying so,
// without the PostgreSQL binaries.
#include "tests/common/pg_fixture.hpp"
#include "tests/common/server_fixture.hpp"

#include <boost/test/unit_test.hpp>

#include <sys/wait.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <mutex>
#include <thread>

using namespace latchkey::test;
using boost::beast::http::verb;
namespace fs = std::filesystem;

namespace {

constexpr char const* secret = "sk_test_pgclusterpgclusterpgcl0001";
constexpr char const* password = "correct horse battery staple";

std::string bin() {
    char const* b = std::getenv("LATCHKEY_BIN");
    if (b == nullptr) throw std::runtime_error("LATCHKEY_BIN must point at the latchkey binary");
    return b;
}

struct node {
    tmp_dir dir;
    spawned_server s;
    void kill(int sig = SIGTERM) {
        if (s.pid <= 0) return;
        ::kill(s.pid, sig);
        int st = 0;
        ::waitpid(s.pid, &st, 0);
        s.pid = -1;
    }
    ~node() { kill(SIGKILL); }
};

/// PostgreSQL plus nodes A and B (B's data dir holds A's instance id and keys, not its LMDB).
struct cluster {
    test_postgres pg;
    node a;
    node b;

    cluster() {
        std::string const cmd = bin() + " migrate --postgres-url '" + pg.url() + "' >/dev/null";
        if (std::system(cmd.c_str()) != 0) throw std::runtime_error("latchkey migrate failed");
        start(a);
        for (auto const& e : fs::directory_iterator(a.dir.path)) {
            auto const name = e.path().filename().string();
            if (name == "db" || name == "outbox.jsonl") continue;
            fs::copy(e.path(), fs::path(b.dir.path) / name, fs::copy_options::recursive);
        }
        start(b);
    }
    void start(node& n) {
        n.s = spawn_server(bin(), n.dir.path, {},
                           {"LATCHKEY_POSTGRES_URL=" + pg.url(), std::string("LATCHKEY_SECRET_KEY=") + secret,
                            "LATCHKEY_ACCESS_LOG=false", "LATCHKEY_THREADS=2", "LATCHKEY_HASH_THREADS=1"});
    }
    static http_client bapi(node const& n) {
        http_client c(n.s.bapi);
        c.secret_key = secret;
        return c;
    }
};

bool postgres_installed_flag() { return test_postgres::available(); }

boost::test_tools::assertion_result postgres_installed(boost::unit_test::test_unit_id) {
    boost::test_tools::assertion_result r(postgres_installed_flag());
    r.message() << "skipped: the PostgreSQL binaries (initdb, pg_ctl; Debian's postgresql-15) are not installed";
    return r;
}

cluster& the_cluster() {
    static cluster c;
    return c;
}

std::string create_user(node const& n, std::string const& email) {
    auto c = cluster::bapi(n);
    json::object body{
        {"email_address", json::array{json::value(email)}}, {"password", password}, {"skip_password_checks", true}};
    auto r = c.bapi(verb::post, "/v1/users", body);
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    return str(r.json.at("id"));
}

/// Signs in with a password on `n`; returns the session id (the client's cookies stay in `c`).
std::string sign_in(http_client& c, std::string const& email) {
    auto r = c.fapi("POST", "/v1/client/sign_ins",
                    {{"identifier", email}, {"strategy", "password"}, {"password", password}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST_REQUIRE(str(r.json.at("response").at("status")) == "complete");
    return str(r.json.at("response").at("created_session_id"));
}

unsigned mint(http_client& c, std::string const& sid) {
    return c.fapi("POST", "/v1/client/sessions/" + sid + "/tokens").status;
}

/// Reads and mint for a live session work from `c`'s node's replica (PostgreSQL may be down).
void expect_replica_serves(http_client& c, std::string const& sid) {
    BOOST_TEST(mint(c, sid) == 200u);
    BOOST_TEST(c.fapi("GET", "/v1/client").status == 200u);
}

json::object user_body(std::string const& email) { return {{"email_address", json::array{json::value(email)}}}; }

/// A user creation over BAPI `c` answers the Clerk-shaped 503 of a store cut from PostgreSQL.
void expect_store_unavailable(http_client& c, std::string const& email) {
    auto w = c.bapi(verb::post, "/v1/users", user_body(email));
    BOOST_TEST(w.status == 503u, w.body);
    BOOST_TEST(w.error_code() == "store_unavailable");
    BOOST_TEST(w.json.at("errors").at(0).as_object().contains("long_message"));
}

/// Retries a user creation over BAPI `c` until it is 200 (writes come back once PostgreSQL is), at most 5 s.
void create_user_once_back(http_client& c, std::string const& email) {
    auto const deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (;;) {
        auto r = c.bapi(verb::post, "/v1/users", user_body(email));
        if (r.status == 200u) return;
        BOOST_TEST_REQUIRE((std::chrono::steady_clock::now() < deadline), "writes did not come back: " << r.body);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(postgres_cluster,
                      *boost::unit_test::label("heavy") * boost::unit_test::precondition(postgres_installed))

BOOST_AUTO_TEST_CASE(user_created_on_a_signs_in_on_b) {
    auto& cl = the_cluster();
    std::string const id = create_user(cl.a, "across@example.com");
    // B learns of the user from PostgreSQL's change feed (polled every 50 ms).
    auto const deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    http_client b(cl.b.s.fapi);
    for (;;) {
        auto r = b.fapi("POST", "/v1/client/sign_ins",
                        {{"identifier", "across@example.com"}, {"strategy", "password"}, {"password", password}});
        if (r.status == 200u) {
            BOOST_TEST(str(r.json.at("response").at("status")) == "complete");
            auto sid = str(r.json.at("response").at("created_session_id"));
            BOOST_TEST(mint(b, sid) == 200u);
            break;
        }
        BOOST_TEST_REQUIRE((std::chrono::steady_clock::now() < deadline), "B never saw the user: " << r.body);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    // And the session B created is visible to A's BAPI.
    auto a = cluster::bapi(cl.a);
    auto deadline2 = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    for (;;) {
        auto r = a.bapi(verb::get, "/v1/sessions?user_id=" + id);
        if (r.status == 200u && r.json.is_array() && !r.json.as_array().empty()) break;
        BOOST_TEST_REQUIRE((std::chrono::steady_clock::now() < deadline2), "A never saw B's session: " << r.body);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

BOOST_AUTO_TEST_CASE(session_revoked_on_b_stops_minting_on_a_within_1s) {
    auto& cl = the_cluster();
    create_user(cl.a, "revoke@example.com");
    std::vector<long> lag_us;
    for (int round = 0; round < 8; ++round) {
        http_client a(cl.a.s.fapi);
        std::string const sid = sign_in(a, "revoke@example.com");
        BOOST_TEST_REQUIRE(mint(a, sid) == 200u);
        // B may not have applied A's sign-in yet: retry its revoke until the session is there.
        auto b = cluster::bapi(cl.b);
        auto const start = std::chrono::steady_clock::now();
        for (;;) {
            auto r = b.bapi(verb::post, "/v1/sessions/" + sid + "/revoke");
            if (r.status == 200u) break;
            BOOST_TEST_REQUIRE((std::chrono::steady_clock::now() - start < std::chrono::seconds(2)), r.body);
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        auto const revoked = std::chrono::steady_clock::now();
        for (;;) {
            unsigned const st = mint(a, sid);
            if (st != 200u) {
                BOOST_TEST(st == 401u, "status " << st);
                break;
            }
            BOOST_TEST_REQUIRE((std::chrono::steady_clock::now() - revoked < std::chrono::seconds(1)),
                               "A still mints 1 s after the revoke on B");
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        lag_us.push_back(static_cast<long>(
            std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - revoked).count()));
    }
    std::sort(lag_us.begin(), lag_us.end());
    BOOST_TEST_MESSAGE("revocation on B refused by A's mint after (us, sorted): " << [&] {
        std::string s;
        for (long v : lag_us) s += std::to_string(v) + " ";
        return s;
    }());
}

BOOST_AUTO_TEST_CASE(postgres_down_writes_503_mint_works_then_recovers) {
    auto& cl = the_cluster();
    http_client a(cl.a.s.fapi);
    create_user(cl.a, "outage@example.com");
    std::string const sid = sign_in(a, "outage@example.com");
    cl.pg.stop();
    expect_replica_serves(a, sid);
    // A write fails, Clerk-shaped.
    auto bc = cluster::bapi(cl.b);
    expect_store_unavailable(bc, "during@example.com");
    cl.pg.start();
    // Back: the next writes succeed (the writer reconnects within ~200 ms).
    create_user_once_back(bc, "during@example.com");
    BOOST_TEST(mint(a, sid) == 200u);
}

BOOST_AUTO_TEST_CASE(a_node_started_while_postgres_is_down_serves_mint_and_catches_up) {
    auto& cl = the_cluster();
    create_user(cl.a, "offline@example.com");
    http_client first(cl.a.s.fapi);
    std::string const sid = sign_in(first, "offline@example.com");
    cl.a.kill();
    cl.pg.stop();
    // A starts from its replica: PostgreSQL is unreachable.
    cl.start(cl.a);
    http_client a(cl.a.s.fapi);
    a.cookies = first.cookies;
    expect_replica_serves(a, sid);
    auto ab = cluster::bapi(cl.a);
    expect_store_unavailable(ab, "offline-new@example.com");
    // PostgreSQL returns: B writes, A's follower reconnects and applies it, and A's writes land again.
    cl.pg.start();
    auto bb = cluster::bapi(cl.b);
    create_user_once_back(bb, "offline-b@example.com");
    auto const deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (;;) {
        auto r = ab.bapi(verb::get, "/v1/users?email_address=offline-b@example.com");
        if (r.status == 200u && r.json.as_array().size() == 1u) break;
        BOOST_TEST_REQUIRE((std::chrono::steady_clock::now() < deadline), "A never caught up: " << r.body);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    create_user_once_back(ab, "offline-new@example.com");
    BOOST_TEST(mint(a, sid) == 200u);
}

BOOST_AUTO_TEST_CASE(kill_9_in_a_write_storm_loses_no_acknowledged_write) {
    auto& cl = the_cluster();
    std::vector<std::string> acknowledged;
    std::mutex mu;
    std::atomic<bool> stop{false};
    std::vector<std::thread> storm;
    for (int t = 0; t < 4; ++t) {
        storm.emplace_back([&, t] {
            // Two writers on each node: A's and B's commits race for the same sequence numbers.
            node const& n = t % 2 == 0 ? cl.a : cl.b;
            while (!stop) {
                try {
                    http_client h(n.s.fapi);
                    auto r = h.fapi("POST", "/v1/client");
                    if (r.status == 200u) {
                        std::lock_guard lk(mu);
                        acknowledged.emplace_back(str(r.json.at("response").at("id")));
                    }
                } catch (...) {
                    if (t % 2 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));  // A is dead
                }
            }
        });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    cl.a.kill(SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    stop = true;
    for (auto& th : storm) th.join();
    BOOST_TEST_REQUIRE(acknowledged.size() > 20u);
    // Every acknowledged client (from either node) is in B's replica once it caught up, and in A's after a restart.
    cl.start(cl.a);
    auto check = [&](node const& n) {
        auto c = cluster::bapi(n);
        std::size_t missing = 0;
        auto const deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
        for (auto const& id : acknowledged) {
            for (;;) {
                auto r = c.bapi(verb::get, "/v1/clients/" + id);
                if (r.status == 200u) break;
                if (std::chrono::steady_clock::now() > deadline) {
                    ++missing;
                    break;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
        }
        return missing;
    };
    BOOST_TEST(check(cl.b) == 0u);
    BOOST_TEST(check(cl.a) == 0u);
    BOOST_TEST_MESSAGE("acknowledged writes checked: " << acknowledged.size());
}

BOOST_AUTO_TEST_CASE(store_copy_lmdb_to_postgres_and_back) {
    // Its own PostgreSQL database: copy needs an empty store.
    auto& cl = the_cluster();
    cl.pg.sql("CREATE DATABASE copytest");
    std::string url = cl.pg.url();
    url = url.substr(0, url.rfind('/')) + "/copytest";
    BOOST_TEST_REQUIRE(std::system((bin() + " migrate --postgres-url '" + url + "' >/dev/null").c_str()) == 0);
    // B's replica holds everything so far: copy it to the empty store, then that store into a fresh directory.
    tmp_dir back;
    std::string const from = "lmdb:" + std::string(cl.b.dir.path) + "/db";
    auto run = [](std::string const& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); };
    BOOST_TEST(run(bin() + " store copy --from " + from + " --to '" + url + "'") == 0);
    BOOST_TEST(run(bin() + " store copy --from " + from + " --to '" + url + "'") != 0);  // no longer empty
    BOOST_TEST(run(bin() + " store copy --from '" + url + "' --to lmdb:" + back.path + "/db") == 0);
    // A node on the copied directory serves the users (its data dir: B's keys, the copied LMDB).
    for (auto const& e : fs::directory_iterator(cl.b.dir.path)) {
        auto const name = e.path().filename().string();
        if (name == "db" || name == "outbox.jsonl") continue;
        fs::copy(e.path(), fs::path(back.path) / name, fs::copy_options::recursive);
    }
    auto s =
        spawn_server(bin(), back.path, {},
                     {std::string("LATCHKEY_SECRET_KEY=") + secret, "LATCHKEY_ACCESS_LOG=false", "LATCHKEY_THREADS=1"});
    http_client c(s.bapi);
    c.secret_key = secret;
    auto r = c.bapi(verb::get, "/v1/users?email_address=across@example.com");
    ::kill(s.pid, SIGKILL);
    int st = 0;
    ::waitpid(s.pid, &st, 0);
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(r.json.as_array().size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
