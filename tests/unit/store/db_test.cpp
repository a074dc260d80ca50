#include "store/db.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <random>

using namespace latchkey::store;

namespace {

struct tmp {
    std::string path;
    tmp() {
        std::random_device rd;
        path = (std::filesystem::temp_directory_path() / ("latchkey-store-" + std::to_string(rd()) + std::to_string(rd())))
                   .string();
    }
    ~tmp() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

struct fixture {
    tmp dir;
    db store;
    fixture() : store(open_store(dir.path)) {}
    static db open_store(std::string const& p, std::uint64_t map = 64ull << 20) {
        options o;
        o.dir = p;
        o.map_size = map;
        auto r = db::open(o);
        BOOST_TEST_REQUIRE(r.has_value());
        return std::move(*r);
    }
};

user_record make_user(std::string id, std::string email, std::string username = {}, std::int64_t created = 0) {
    user_record u;
    u.id = std::move(id);
    identification_record e;
    e.id = "idn_" + u.id;
    e.kind = "email_address";
    e.value = std::move(email);
    u.identifications.push_back(e);
    u.primary_email_address_id = e.id;
    u.username = std::move(username);
    u.created_at = u.updated_at = created;
    return u;
}

result<void> insert(db& d, user_record const& u, unique_field* conflict = nullptr) {
    return d.with_write([&](write_txn& w) { return d.put_user(w, u, nullptr, conflict); });
}

}  // namespace

BOOST_AUTO_TEST_SUITE(store_db)

BOOST_FIXTURE_TEST_CASE(users_and_unique_indexes, fixture) {
    BOOST_TEST_REQUIRE(insert(store, make_user("user_1", "Ada@Example.com", "Ada")).has_value());
    auto id = store.with_read([&](read_txn& r) { return store.user_id_by_email(r, "ada@example.com"); });
    BOOST_TEST_REQUIRE(id.has_value());
    BOOST_TEST(id->value() == "user_1");
    BOOST_TEST(store.with_read([&](read_txn& r) { return store.user_id_by_username(r, "ADA"); })->value() == "user_1");
    BOOST_TEST(store.with_read([&](read_txn& r) { return store.user_id_by_identification(r, "idn_user_1"); })->value() ==
               "user_1");
    // A second user with the same email (any case) or username: key_exists, the right field, nothing written.
    unique_field f = unique_field::none;
    auto dup = insert(store, make_user("user_2", "ADA@example.com"), &f);
    BOOST_TEST(dup.error() == make_error_code(errc::key_exists));
    BOOST_TEST((f == unique_field::email_address));
    f = unique_field::none;
    BOOST_TEST(insert(store, make_user("user_2", "b@example.com", "ada"), &f).has_error());
    BOOST_TEST((f == unique_field::username));
    BOOST_TEST(!store.with_read([&](read_txn& r) { return store.get_user(r, "user_2"); })->has_value());
    // Changing the email frees the old key for someone else.
    auto u1 = store.with_read([&](read_txn& r) { return store.get_user(r, "user_1"); })->value();
    auto changed = u1;
    changed.identifications[0].value = "new@example.com";
    BOOST_TEST(store.with_write([&](write_txn& w) { return store.put_user(w, changed, &u1); }).has_value());
    BOOST_TEST(insert(store, make_user("user_3", "ada@example.com")).has_value());
    // delete_user clears every index.
    BOOST_TEST(store.with_write([&](write_txn& w) { return store.delete_user(w, changed); }).has_value());
    BOOST_TEST(!store.with_read([&](read_txn& r) { return store.user_id_by_email(r, "new@example.com"); })->has_value());
    BOOST_TEST(!store.with_read([&](read_txn& r) { return store.user_id_by_username(r, "ada"); })->has_value());
    BOOST_TEST(insert(store, make_user("user_4", "new@example.com", "ada")).has_value());
}

BOOST_FIXTURE_TEST_CASE(list_and_count_users, fixture) {
    for (int i = 0; i < 25; ++i) {
        char id[16];
        std::snprintf(id, sizeof id, "user_%02d", i);
        auto u = make_user(id, "u" + std::to_string(i) + "@example.com", "name" + std::to_string(i), 1000 + i);
        u.first_name = i % 2 == 0 ? "Even" : "Odd";
        BOOST_TEST_REQUIRE(insert(store, u).has_value());
    }
    auto list = [&](user_filter f) { return store.with_read([&](read_txn& r) { return store.list_users(r, f); }).value(); };
    user_filter f;
    auto page = list(f);
    BOOST_TEST(page.size() == 10u);
    BOOST_TEST(page.front().id == "user_24");  // newest first
    f.offset = 20;
    page = list(f);
    BOOST_TEST(page.size() == 5u);
    BOOST_TEST(page.back().id == "user_00");
    f.offset = 30;
    BOOST_TEST(list(f).empty());
    f = {};
    f.order_by = "+created_at";
    f.limit = 1;
    BOOST_TEST(list(f).front().id == "user_00");
    f = {};
    f.query = "ODD";
    f.limit = 100;
    BOOST_TEST(list(f).size() == 12u);
    f = {};
    f.email_addresses = {"u3@example.com", "U4@EXAMPLE.COM", "missing@example.com"};
    BOOST_TEST(list(f).size() == 2u);
    f.usernames = {"name4"};
    auto both = list(f);
    BOOST_TEST_REQUIRE(both.size() == 1u);
    BOOST_TEST(both[0].id == "user_04");
    auto count = [&](user_filter g) { return store.with_read([&](read_txn& r) { return store.count_users(r, g); }).value(); };
    BOOST_TEST(count({}) == 25u);
    user_filter q;
    q.query = "even";
    BOOST_TEST(count(q) == 13u);
}

BOOST_FIXTURE_TEST_CASE(sessions_clients_templates_meta, fixture) {
    client_record c;
    c.id = "client_1";
    session_record a{"sess_1", "client_1", "user_1", "active", "", "", 0, 0, 0, 0, 0, 1, 1};
    session_record b{"sess_2", "client_1", "user_1", "ended", "", "", 0, 0, 0, 0, 0, 2, 2};
    session_record other{"sess_3", "client_2", "user_2", "active", "", "", 0, 0, 0, 0, 0, 3, 3};
    c.session_ids = {"sess_1", "sess_2"};
    BOOST_TEST_REQUIRE(store.with_write([&](write_txn& w) -> result<void> {
                                if (auto r = store.put_client(w, c); !r) return r;
                                for (auto const& s : {a, b, other})
                                    if (auto r = store.put_session(w, s); !r) return r;
                                return {};
                            }).has_value());
    auto mine = store.with_read([&](read_txn& r) { return store.sessions_of_user(r, "user_1"); }).value();
    BOOST_TEST_REQUIRE(mine.size() == 2u);
    BOOST_TEST(mine[0].id == "sess_2");  // newest first
    std::size_t total = 0;
    auto active = store.with_read([&](read_txn& r) { return store.list_sessions(r, "", "", "active", 10, 0, &total); }).value();
    BOOST_TEST(total == 2u);
    BOOST_TEST(active[0].id == "sess_3");
    auto by_client = store.with_read([&](read_txn& r) { return store.list_sessions(r, "", "client_1", "", 1, 1, &total); }).value();
    BOOST_TEST(total == 2u);
    BOOST_TEST(by_client.size() == 1u);
    auto clients = store.with_read([&](read_txn& r) { return store.list_clients(r, 10, 0, &total); }).value();
    BOOST_TEST(total == 1u);
    BOOST_TEST(clients[0].session_ids.size() == 2u);

    jwt_template_record t1{"jtmp_1", "default", "{}", 60, 5, false, "RS256", 0, 0};
    jwt_template_record t2{"jtmp_2", "default", "{}", 60, 5, false, "RS256", 0, 0};
    BOOST_TEST(store.with_write([&](write_txn& w) { return store.put_jwt_template(w, t1, nullptr); }).has_value());
    BOOST_TEST(store.with_write([&](write_txn& w) { return store.put_jwt_template(w, t2, nullptr); }).error() ==
               make_error_code(errc::key_exists));
    BOOST_TEST(store.with_read([&](read_txn& r) { return store.jwt_template_by_name(r, "default"); })->value().id == "jtmp_1");

    BOOST_TEST(store.with_write([&](write_txn& w) { return store.put_meta(w, "k", "v"); }).has_value());
    BOOST_TEST(store.with_read([&](read_txn& r) { return store.get_meta(r, "k"); })->value() == "v");
}

BOOST_AUTO_TEST_CASE(a_failed_write_leaves_nothing_behind) {
    tmp dir;
    auto store = fixture::open_store(dir.path);
    auto r = store.with_write([&](write_txn& w) -> result<void> {
        if (auto p = store.put_meta(w, "half", "written"); !p) return p;
        return make_error_code(errc::not_found);
    });
    BOOST_TEST(r.has_error());
    BOOST_TEST(!store.with_read([&](read_txn& t) { return store.get_meta(t, "half"); })->has_value());
}

BOOST_AUTO_TEST_CASE(map_full_is_an_error_and_reads_still_work) {
    tmp dir;
    auto store = fixture::open_store(dir.path, 256 * 1024);
    BOOST_TEST_REQUIRE(store.with_write([&](write_txn& w) { return store.put_meta(w, "first", "ok"); }).has_value());
    result<void> last;
    for (int i = 0; i < 10000 && last.has_value(); ++i)
        last = store.with_write([&](write_txn& w) { return store.put_meta(w, "k" + std::to_string(i), std::string(2000, 'x')); });
    BOOST_TEST(last.error() == make_error_code(errc::map_full));
    BOOST_TEST(store.with_read([&](read_txn& t) { return store.get_meta(t, "first"); })->value() == "ok");
}

BOOST_AUTO_TEST_CASE(data_survives_close_and_reopen) {
    tmp dir;
    {
        auto store = fixture::open_store(dir.path);
        BOOST_TEST_REQUIRE(insert(store, make_user("user_9", "keep@example.com")).has_value());
    }
    auto store = fixture::open_store(dir.path);
    BOOST_TEST(store.with_read([&](read_txn& r) { return store.get_user(r, "user_9"); })->has_value());
}

BOOST_AUTO_TEST_CASE(a_file_that_is_not_lmdb_is_a_clear_error) {
    tmp dir;
    std::filesystem::create_directories(dir.path);
    {
        std::ofstream f(dir.path + "/data.mdb", std::ios::binary);
        f << std::string(8192, 'Z');
    }
    options o;
    o.dir = dir.path;
    o.map_size = 1 << 20;
    auto r = db::open(o);
    BOOST_TEST(r.has_error());
}

BOOST_AUTO_TEST_SUITE_END()
