#include "store/lmdb/env.hpp"

#include "tests/unit/store/fixture.hpp"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

using namespace latchkey::store::lmdb;
using namespace latchkey::store::test;
using latchkey::store::errc;
using latchkey::store::max_key_size;
using latchkey::store::result;

namespace {

/// A raw env with one named database "t".
struct env_fixture {
    tmp_dir dir;
    env e;
    MDB_dbi dbi = 0;

    env_fixture() {
        auto r = e.open(dir.sub("env"), 16ull << 20, 4, true, 126);
        BOOST_TEST_REQUIRE(r.has_value());
        auto w = write_txn::begin(e);
        BOOST_TEST_REQUIRE(w.has_value());
        auto d = w->open_dbi("t");
        BOOST_TEST_REQUIRE(d.has_value());
        dbi = *d;
        auto c = std::move(*w).commit();
        BOOST_TEST_REQUIRE(c.has_value());
    }

    result<void> put_all(std::vector<std::pair<std::string, std::string>> const& kv) {
        auto w = write_txn::begin(e);
        if (!w) return w.error();
        for (auto const& [k, v] : kv)
            if (auto r = w->put(dbi, k, v); !r) return r;
        return std::move(*w).commit();
    }

    std::optional<std::string> read(std::string const& key) {
        auto t = read_txn::begin(e);
        BOOST_TEST_REQUIRE(t.has_value());
        auto v = t->get(dbi, key);
        BOOST_TEST_REQUIRE(v.has_value());
        return *v ? std::optional<std::string>(std::string(**v)) : std::nullopt;
    }
};

std::string key_of(result<std::optional<cursor::entry>> const& e) {
    BOOST_TEST_REQUIRE(e.has_value());
    return *e ? std::string((*e)->first) : std::string("<end>");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(store_lmdb)

BOOST_AUTO_TEST_CASE(lmdb_codes_map_to_store_errors) {
    BOOST_TEST(lmdb_error(MDB_KEYEXIST, "test") == make_error_code(errc::key_exists));
    BOOST_TEST(lmdb_error(MDB_MAP_FULL, "test") == make_error_code(errc::map_full));
    BOOST_TEST(lmdb_error(MDB_BAD_VALSIZE, "test") == make_error_code(errc::invalid_key));
    for (int rc : {MDB_CORRUPTED, MDB_PAGE_NOTFOUND, MDB_INVALID, MDB_VERSION_MISMATCH})
        BOOST_TEST(lmdb_error(rc, "test") == make_error_code(errc::corrupted), "rc " << rc);
    for (int rc : {EIO, ENOSPC, MDB_PANIC, MDB_READERS_FULL, MDB_TXN_FULL})
        BOOST_TEST(lmdb_error(rc, "test") == make_error_code(errc::lmdb), "rc " << rc);
}

BOOST_AUTO_TEST_CASE(open_creates_a_private_directory) {
    tmp_dir dir;
    std::string const path = dir.sub("a/b/env");
    env e;
    BOOST_TEST(!e);
    BOOST_TEST_REQUIRE(e.open(path, 1 << 20, 2, true, 16).has_value());
    BOOST_TEST(static_cast<bool>(e));
    auto perms = std::filesystem::status(path).permissions();
    BOOST_TEST(((perms & std::filesystem::perms::all) == std::filesystem::perms::owner_all));
    BOOST_TEST(std::filesystem::exists(path + "/data.mdb"));
    BOOST_TEST(e.sync().has_value());
}

BOOST_AUTO_TEST_CASE(a_file_that_is_not_lmdb_is_corrupted_not_a_crash) {
    tmp_dir dir;
    std::string const path = dir.sub("env");
    std::filesystem::create_directories(path);
    {
        std::ofstream f(path + "/data.mdb", std::ios::binary);
        f << std::string(16384, 'Z');
    }
    env e;
    auto r = e.open(path, 1 << 20, 2, true, 16);
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error() == make_error_code(errc::corrupted));
    BOOST_TEST(!e);
    // A few bytes (a truncated file) are refused too.
    {
        std::ofstream f(path + "/data.mdb", std::ios::binary | std::ios::trunc);
        f << "short";
    }
    BOOST_TEST(e.open(path, 1 << 20, 2, true, 16).error() == make_error_code(errc::corrupted));
    // A regular file where the directory should be.
    std::string const file = dir.sub("plain");
    std::ofstream(file) << "x";
    BOOST_TEST(e.open(file, 1 << 20, 2, true, 16).has_error());
}

BOOST_AUTO_TEST_CASE(an_unopened_env_refuses_txns) {
    env e;
    BOOST_TEST(read_txn::begin(e).error() == make_error_code(errc::lmdb));
    BOOST_TEST(write_txn::begin(e).error() == make_error_code(errc::lmdb));
    BOOST_TEST(e.sync().has_error());
}

BOOST_FIXTURE_TEST_CASE(put_get_delete_and_noverwrite, env_fixture) {
    BOOST_TEST_REQUIRE(put_all({{"a", "1"}, {"b", "2"}}).has_value());
    BOOST_TEST(read("a") == std::optional<std::string>("1"));
    BOOST_TEST(!read("zz").has_value());
    auto w = write_txn::begin(e);
    BOOST_TEST_REQUIRE(w.has_value());
    BOOST_TEST(w->put(dbi, "a", "other", MDB_NOOVERWRITE).error() == make_error_code(errc::key_exists));
    BOOST_TEST(w->del(dbi, "b").has_value());
    BOOST_TEST(w->del(dbi, "never-there").has_value());
    // The write txn sees its own writes.
    BOOST_TEST(!w->get(dbi, "b")->has_value());
    BOOST_TEST(w->count(dbi).value() == 1u);
    BOOST_TEST_REQUIRE(std::move(*w).commit().has_value());
    BOOST_TEST(read("a") == std::optional<std::string>("1"));
    BOOST_TEST(!read("b").has_value());
}

BOOST_FIXTURE_TEST_CASE(an_uncommitted_write_txn_leaves_nothing, env_fixture) {
    {
        auto w = write_txn::begin(e);
        BOOST_TEST_REQUIRE(w.has_value());
        BOOST_TEST_REQUIRE(w->put(dbi, "k", "v").has_value());
    }  // aborted here
    BOOST_TEST(!read("k").has_value());
    // And the next writer is not blocked by it.
    BOOST_TEST(put_all({{"k", "v2"}}).has_value());
    BOOST_TEST(read("k") == std::optional<std::string>("v2"));
}

BOOST_FIXTURE_TEST_CASE(empty_and_oversized_keys, env_fixture) {
    std::string const longest(max_key_size, 'k');
    std::string const too_long(max_key_size + 1, 'k');
    BOOST_TEST_REQUIRE(put_all({{longest, "max"}}).has_value());
    BOOST_TEST(read(longest) == std::optional<std::string>("max"));
    BOOST_TEST(!read(too_long).has_value());  // cannot exist: absent, not an error
    BOOST_TEST(!read("").has_value());
    auto w = write_txn::begin(e);
    BOOST_TEST_REQUIRE(w.has_value());
    BOOST_TEST(w->put(dbi, too_long, "x").error() == make_error_code(errc::invalid_key));
    BOOST_TEST(w->put(dbi, "", "x").error() == make_error_code(errc::invalid_key));
    BOOST_TEST(w->del(dbi, too_long).has_value());
    BOOST_TEST(w->del(dbi, "").has_value());
}

BOOST_FIXTURE_TEST_CASE(cursor_seeks_and_steps_both_ways, env_fixture) {
    std::string const longest(max_key_size, 'm');
    std::string const bx("b\0x", 3), by("b\0y", 3);
    BOOST_TEST_REQUIRE(put_all({{"a", ""}, {bx, ""}, {by, ""}, {"c", ""}, {longest, ""}, {"n", ""}}).has_value());
    auto t = read_txn::begin(e);
    BOOST_TEST_REQUIRE(t.has_value());
    auto c = cursor::open(*t, dbi);
    BOOST_TEST_REQUIRE(c.has_value());
    BOOST_TEST(key_of(c->first()) == "a");
    BOOST_TEST(key_of(c->next()) == bx);
    BOOST_TEST(key_of(c->last()) == "n");
    BOOST_TEST(key_of(c->next()) == "<end>");
    BOOST_TEST(key_of(c->seek(std::string("b\0", 2))) == bx);
    BOOST_TEST(key_of(c->next()) == by);
    BOOST_TEST(key_of(c->seek("bb")) == "c");
    BOOST_TEST(key_of(c->prev()) == by);
    BOOST_TEST(key_of(c->seek("")) == "a");
    BOOST_TEST(key_of(c->seek("zzz")) == "<end>");
    BOOST_TEST(key_of(c->seek_before("c")) == by);
    BOOST_TEST(key_of(c->seek_before("a")) == "<end>");
    BOOST_TEST(key_of(c->seek_before("zzz")) == "n");
    // Keys longer than LMDB allows still seek correctly: the 511-byte key sorts before its 600-byte extension.
    BOOST_TEST(key_of(c->seek(std::string(600, 'm'))) == "n");
    BOOST_TEST(key_of(c->seek_before(std::string(600, 'm'))) == longest);
    BOOST_TEST(key_of(c->seek(std::string(600, 'l'))) == longest);
}

BOOST_FIXTURE_TEST_CASE(read_txns_are_snapshots_and_reused_ones_see_new_commits, env_fixture) {
    BOOST_TEST_REQUIRE(put_all({{"v", "1"}}).has_value());
    {
        auto old = read_txn::begin(e);
        BOOST_TEST_REQUIRE(old.has_value());
        BOOST_TEST_REQUIRE(put_all({{"v", "2"}}).has_value());
        BOOST_TEST(std::string(old->get(dbi, "v")->value()) == "1");  // snapshot isolation
        auto fresh = read_txn::begin(e);
        BOOST_TEST(std::string(fresh->get(dbi, "v")->value()) == "2");
    }
    // Both handles went back to the pool; renewed ones must see later commits, never a stale snapshot.
    for (int i = 3; i < 50; ++i) {
        BOOST_TEST_REQUIRE(put_all({{"v", std::to_string(i)}}).has_value());
        auto a = read_txn::begin(e);
        auto b = read_txn::begin(e);
        BOOST_TEST_REQUIRE((a.has_value() && b.has_value()));
        BOOST_TEST(std::string(a->get(dbi, "v")->value()) == std::to_string(i));
        BOOST_TEST(std::string(b->get(dbi, "v")->value()) == std::to_string(i));
    }
}

BOOST_FIXTURE_TEST_CASE(a_read_txn_may_end_on_another_thread, env_fixture) {
    BOOST_TEST_REQUIRE(put_all({{"k", "v"}}).has_value());
    auto t = read_txn::begin(e);
    BOOST_TEST_REQUIRE(t.has_value());
    std::string seen;
    std::thread other([&, moved = std::move(*t)]() mutable {
        auto v = moved.get(dbi, "k");
        if (v && *v) seen = std::string(**v);
    });  // `moved` is destroyed (returned to the pool) on the other thread
    other.join();
    BOOST_TEST(seen == "v");
    BOOST_TEST(read("k") == std::optional<std::string>("v"));
}

BOOST_FIXTURE_TEST_CASE(concurrent_readers_see_consistent_snapshots, env_fixture) {
    // Stock LMDB 0.9 may hand a reader that starts during two quick commits the newer of them, so successive
    // snapshots are not strictly monotonic; what must hold is that each txn is one consistent commit and that,
    // once the writer is done, every (pooled, renewed) reader sees the last commit.
    BOOST_TEST_REQUIRE(put_all({{"a", "0"}, {"b", "0"}}).has_value());
    std::atomic<bool> stop{false};
    std::atomic<int> failures{0};
    std::vector<std::string> last_seen(4);
    auto snapshot = [&]() -> std::optional<std::string> {
        auto t = read_txn::begin(e);
        if (!t) return std::nullopt;
        auto a = t->get(dbi, "a");
        auto b = t->get(dbi, "b");
        if (!a || !b || !*a || !*b || **a != **b) return std::nullopt;
        return std::string(**a);
    };
    std::vector<std::thread> readers;
    for (std::size_t r = 0; r < last_seen.size(); ++r)
        readers.emplace_back([&, r] {
            while (!stop.load())
                if (!snapshot()) ++failures;
            auto v = snapshot();
            if (!v) ++failures;
            last_seen[r] = v.value_or("<failed>");
        });
    for (int i = 1; i <= 300; ++i)
        BOOST_TEST_REQUIRE(put_all({{"a", std::to_string(i)}, {"b", std::to_string(i)}}).has_value());
    stop = true;
    for (auto& t : readers) t.join();
    BOOST_TEST(failures.load() == 0);
    for (auto const& v : last_seen) BOOST_TEST(v == "300");
}

BOOST_FIXTURE_TEST_CASE(a_moved_env_keeps_working, env_fixture) {
    BOOST_TEST_REQUIRE(put_all({{"k", "v"}}).has_value());
    { auto warm = read_txn::begin(e); }  // leaves a pooled handle behind
    env moved = std::move(e);
    BOOST_TEST(!e);
    auto t = read_txn::begin(moved);
    BOOST_TEST_REQUIRE(t.has_value());
    BOOST_TEST(std::string(t->get(dbi, "k")->value()) == "v");
}

BOOST_AUTO_TEST_SUITE_END()
