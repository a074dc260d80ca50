// The store contract against the PostgreSQL-backed store (store/pg/, issue 16): PostgreSQL the system of record,
// an LMDB replica beside it. A throwaway PostgreSQL (tests/common/pg_fixture.hpp) is started once for the process;
// each case gets empty PostgreSQL tables and a fresh replica. Skipped, saying so, without PostgreSQL binaries.
#include "store/pg/open.hpp"
#include "tests/common/pg_fixture.hpp"
#include "tests/unit/store/fixture.hpp"

#include <boost/test/unit_test.hpp>

#include <libpq-fe.h>

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
        PGresult* t = ::PQexec(admin, "TRUNCATE latchkey_kv, latchkey_changes");
        bool const truncated = ::PQresultStatus(t) == PGRES_COMMAND_OK;
        ::PQclear(t);
        if (!truncated) throw std::runtime_error(std::string("TRUNCATE: ") + ::PQerrorMessage(admin));
        pg::options o;
        o.url = s.url();
        o.local.dir = dir.sub("db");
        o.local.map_size = 64ull << 20;
        std::string why;
        auto r = pg::open(o, &why);
        if (!r) throw std::runtime_error("pg::open: " + why);
        return std::move(*r);
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
