// The store contract against the PostgreSQL-backed store (store/pg/, issue 16): PostgreSQL the system of record,
// an LMDB replica beside it. A throwaway PostgreSQL (tests/common/pg_fixture.hpp) is started once for the process;
// each case gets empty PostgreSQL tables and a fresh replica. Skipped, saying so, without PostgreSQL binaries.
#include "store/pg/open.hpp"
#include "tests/common/pg_fixture.hpp"
#include "tests/unit/store/fixture.hpp"

#include <boost/test/unit_test.hpp>

#include <libpq-fe.h>

#include <chrono>
#include <thread>

namespace latchkey::store::test {

struct pg_backend {
    static latchkey::test::test_postgres& server() {
        static latchkey::test::test_postgres pg;
        static bool const migrated = [] {
            std::string why;
            if (!pg::migrate(pg.url(), &why)) throw std::runtime_error("migrate: " + why);
            return true;
        }();
        (void)migrated;
        return pg;
    }
    static std::unique_ptr<database> open(tmp_dir const& dir) {
        auto& s = server();
        // One connection for the process's truncations (a psql per case costs more than the case).
        static PGconn* const admin = ::PQconnectdb(s.url().c_str());
        PGresult* t = ::PQexec(admin, "TRUNCATE latchkey_kv, latchkey_changes, latchkey_nodes");
        bool const truncated = ::PQresultStatus(t) == PGRES_COMMAND_OK;
        ::PQclear(t);
        if (!truncated) throw std::runtime_error(std::string("TRUNCATE: ") + ::PQerrorMessage(admin));
        return node(dir);
    }
    /// Another node on the same (not truncated) PostgreSQL store, with its replica in `dir`.
    static std::unique_ptr<database> node(tmp_dir const& dir, pg::options o = {}) {
        o.url = server().url();
        o.local.dir = dir.sub("db");
        o.local.map_size = 64ull << 20;
        std::string why;
        auto r = pg::open(o, &why);
        if (!r) throw std::runtime_error("pg::open: " + why);
        return std::move(*r);
    }
    /// One number from a SQL query (the admin connection).
    static long long scalar(char const* sql) {
        static PGconn* const c = ::PQconnectdb(server().url().c_str());
        PGresult* r = ::PQexec(c, sql);
        long long const v = ::PQresultStatus(r) == PGRES_TUPLES_OK ? std::atoll(::PQgetvalue(r, 0, 0)) : -1;
        ::PQclear(r);
        return v;
    }
};

inline boost::test_tools::assertion_result postgres_installed(boost::unit_test::test_unit_id) {
    boost::test_tools::assertion_result r(latchkey::test::test_postgres::available());
    r.message() << "skipped: the PostgreSQL binaries (initdb, pg_ctl; Debian's postgresql-15) are not installed";
    return r;
}

}  // namespace latchkey::store::test

#define LATCHKEY_STORE_BACKEND pg_backend
#define LATCHKEY_STORE_SUITE store_pg
#define LATCHKEY_STORE_LMDB 0
#define LATCHKEY_STORE_SUITE_DECORATOR *boost::unit_test::precondition(latchkey::store::test::postgres_installed)
#include "tests/unit/store/contract_cases.ipp"

// Beyond the contract: what the replicated store does between nodes (issue 16, docs/postgres.md).
namespace {

using namespace latchkey::store;
using latchkey::store::test::pg_backend;
using latchkey::store::test::tmp_dir;

bool put(database& d, std::string const& k) {
    return d.with_write([&](write_txn& w) { return w.meta().put(k, "v"); }).has_value();
}
bool has(database const& d, std::string const& k) {
    auto r = d.with_read([&](read_txn& t) { return t.meta().get(k); });
    return r && r->has_value();
}
/// Whether `d` sees `k` within `ms` (checked every 5 ms).
bool sees_within(database const& d, std::string const& k, int ms) {
    auto const deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < deadline) {
        if (has(d, k)) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return has(d, k);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(store_pg)
BOOST_AUTO_TEST_SUITE(nodes)

BOOST_AUTO_TEST_CASE(a_notify_wakes_the_other_node_long_before_its_poll,
                     *boost::unit_test::precondition(latchkey::store::test::postgres_installed)) {
    tmp_dir d1;
    tmp_dir d2;
    auto a = pg_backend::open(d1);  // empties the PostgreSQL store
    pg::options slow;
    slow.poll = std::chrono::milliseconds(10000);  // no poll within the test: only a NOTIFY can wake B
    slow.poll_listening = std::chrono::milliseconds(10000);
    auto b = pg_backend::node(d2, slow);
    BOOST_TEST_REQUIRE(put(*a, "notified"));
    auto const t0 = std::chrono::steady_clock::now();
    BOOST_TEST(sees_within(*b, "notified", 2000));
    BOOST_TEST_MESSAGE(
        "B applied A's commit after "
        << std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count()
        << " us");
    // Without LISTEN (CockroachDB's case) the same node only learns at its poll.
    tmp_dir d3;
    slow.listen = false;
    auto c = pg_backend::node(d3, slow);
    // C's follower has made its first round (its report in latchkey_nodes): from now on only its poll moves it.
    auto const c_started = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (pg_backend::scalar("SELECT count(*) FROM latchkey_nodes") < 3 &&
           std::chrono::steady_clock::now() < c_started)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    BOOST_TEST_REQUIRE(put(*a, "polled"));
    BOOST_TEST(sees_within(*b, "polled", 2000));
    BOOST_TEST(!sees_within(*c, "polled", 300));
}

BOOST_AUTO_TEST_CASE(the_log_is_trimmed_and_a_node_behind_it_reloads_a_snapshot,
                     *boost::unit_test::precondition(latchkey::store::test::postgres_installed)) {
    tmp_dir d1;
    tmp_dir d2;
    pg::options trim;
    trim.keep_changes = 3;
    trim.node_ttl = std::chrono::seconds(1);
    trim.report_every = std::chrono::milliseconds(20);
    auto a = pg_backend::open(d1);
    a.reset();
    a = pg_backend::node(d1, trim);
    auto b = pg_backend::node(d2, trim);
    BOOST_TEST_REQUIRE(put(*a, "k0"));
    BOOST_TEST_REQUIRE(sees_within(*b, "k0", 2000));
    // While B is live the log keeps what B has not applied; B stops (its last report stays in latchkey_nodes).
    b.reset();
    for (int i = 1; i <= 20; ++i) BOOST_TEST_REQUIRE(put(*a, "k" + std::to_string(i)));
    auto const head = pg_backend::scalar("SELECT max(seq) FROM latchkey_changes");
    // Held at B's seq until B's report is older than node_ttl, then trimmed to the newest keep_changes.
    std::this_thread::sleep_for(std::chrono::milliseconds(1300));
    BOOST_TEST(pg_backend::scalar("SELECT count(*) FROM latchkey_changes") == 3);
    BOOST_TEST(pg_backend::scalar("SELECT min(seq) FROM latchkey_changes") == head - 2);
    // B comes back behind the trimmed point: it reloads a snapshot and has every key, then follows again.
    b = pg_backend::node(d2, trim);
    for (int i = 0; i <= 20; ++i) BOOST_TEST(has(*b, "k" + std::to_string(i)), "k" << i);
    BOOST_TEST_REQUIRE(put(*a, "after"));
    BOOST_TEST(sees_within(*b, "after", 2000));
    // And B's writes still land in one total order with A's.
    BOOST_TEST_REQUIRE(put(*b, "from_b"));
    BOOST_TEST(sees_within(*a, "from_b", 2000));
}

BOOST_AUTO_TEST_CASE(a_follower_behind_the_trimmed_point_reloads_while_running,
                     *boost::unit_test::precondition(latchkey::store::test::postgres_installed)) {
    tmp_dir d1;
    tmp_dir d2;
    auto a = pg_backend::open(d1);
    pg::options blind;  // B's follower only wakes at its poll: the log is trimmed past it meanwhile
    blind.listen = false;
    blind.poll = std::chrono::milliseconds(1500);
    auto b = pg_backend::node(d2, blind);
    for (int i = 0; i < 10; ++i) BOOST_TEST_REQUIRE(put(*a, "r" + std::to_string(i)));
    auto const head = pg_backend::scalar("SELECT max(seq) FROM latchkey_changes");
    BOOST_TEST_REQUIRE(
        pg_backend::scalar(
            ("DELETE FROM latchkey_changes WHERE seq < " + std::to_string(head) + " RETURNING 0").c_str()) == 0);
    BOOST_TEST(sees_within(*b, "r9", 4000));
    for (int i = 0; i < 10; ++i) BOOST_TEST(has(*b, "r" + std::to_string(i)));
}

BOOST_AUTO_TEST_CASE(a_snapshot_larger_than_a_page_loads_in_batches,
                     *boost::unit_test::precondition(latchkey::store::test::postgres_installed)) {
    tmp_dir d1;
    tmp_dir d2;
    auto a = pg_backend::open(d1);
    // 25,000 entries in one commit: more than two pages of the snapshot load (10,000 rows each).
    BOOST_TEST_REQUIRE(a->with_write([](write_txn& w) -> result<void> {
                            for (int i = 0; i < 25000; ++i)
                                if (auto r = w.meta().put("bulk" + std::to_string(i), "v"); !r) return r;
                            return {};
                        }).has_value());
    auto b = pg_backend::node(d2);  // a fresh replica: loads the snapshot
    BOOST_TEST(has(*b, "bulk0"));
    BOOST_TEST(has(*b, "bulk12345"));
    BOOST_TEST(has(*b, "bulk24999"));
}

BOOST_AUTO_TEST_SUITE_END()
BOOST_AUTO_TEST_SUITE_END()
