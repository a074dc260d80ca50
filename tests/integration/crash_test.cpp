// Crash safety: the real binary under a concurrent write storm is SIGKILLed at random moments, many rounds.
// After each kill the store must open cleanly and hold every record whose creation was answered with a 2xx.
#include "store/lmdb/open.hpp"
#include "tests/common/server_fixture.hpp"

#include <boost/test/unit_test.hpp>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <random>
#include <thread>

extern char** environ;

using namespace latchkey;
using namespace latchkey::test;

namespace {

struct child {
    pid_t pid = -1;
    unsigned short fapi = 0;
    unsigned short bapi = 0;
};

child start_binary(std::string const& bin, std::string const& data_dir) {
    auto s = spawn_server(
        bin, data_dir, {},
        {"LATCHKEY_SECRET_KEY=sk_test_crashcrashcrashcrash0001", "LATCHKEY_ACCESS_LOG=false", "LATCHKEY_THREADS=2"});
    return child{s.pid, s.fapi, s.bapi};
}

}  // namespace

// Label "heavy" (see cmake/boost_test_entries.cmake): the write storm takes the cores; never beside another heavy
// entry.
BOOST_AUTO_TEST_SUITE(crash_safety, *boost::unit_test::label("heavy"))

BOOST_AUTO_TEST_CASE(kill_9_loses_no_acknowledged_write) {
    char const* bin = std::getenv("LATCHKEY_BIN");
    BOOST_TEST_REQUIRE(bin != nullptr, "LATCHKEY_BIN must point at the latchkey binary");
    tmp_dir data;
    std::mt19937 rng(20261123);
    std::vector<std::string> acknowledged;
    std::mutex mu;
    int const rounds = 10;
    for (int round = 0; round < rounds; ++round) {
        auto c = start_binary(bin, data.path);
        std::atomic<bool> stop{false};
        std::vector<std::thread> storm;
        for (int t = 0; t < 4; ++t) {
            storm.emplace_back([&, t] {
                while (!stop) {
                    try {
                        http_client h(c.fapi);
                        // Each request is a fresh browser: POST /v1/client creates and durably commits a client.
                        auto r = h.fapi("POST", "/v1/client");
                        if (r.status == 200) {
                            std::lock_guard lk(mu);
                            acknowledged.emplace_back(r.json.at("response").at("id").as_string());
                        }
                        if (t % 2 == 1) {
                            auto d = h.fapi("POST", "/v1/dev_browser");
                            (void)d;
                        }
                    } catch (...) {
                        // the server died mid-request: expected
                    }
                }
            });
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 250));
        ::kill(c.pid, SIGKILL);
        int status = 0;
        ::waitpid(c.pid, &status, 0);
        stop = true;
        for (auto& th : storm) th.join();
        // The store opens cleanly and holds everything that was acknowledged so far.
        store::lmdb::options o;
        o.dir = data.path + "/db";
        o.map_size = 1ull << 34;
        auto db = store::lmdb::open(o);
        BOOST_TEST_REQUIRE(db.has_value());
        std::size_t missing = 0;
        auto r = (*db)->with_read([&](store::read_txn& t) -> store::result<void> {
            for (auto const& id : acknowledged) {
                auto cl = t.clients().get(id);
                if (!cl) return cl.error();
                if (!*cl) ++missing;
            }
            return {};
        });
        BOOST_TEST_REQUIRE(r.has_value());
        BOOST_TEST(missing == 0u, "round " << round << ": " << missing << " acknowledged clients lost");
    }
    BOOST_TEST(acknowledged.size() > 50u);
    BOOST_TEST_MESSAGE("acknowledged writes checked: " << acknowledged.size());
}

BOOST_AUTO_TEST_SUITE_END()
