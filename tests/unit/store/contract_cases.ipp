// The store contract: the same cases against every backend of the seam (store/store.hpp). Included once per
// backend by contract_<backend>_test.cpp, which defines LATCHKEY_STORE_BACKEND (a backend type from fixture.hpp)
// and LATCHKEY_STORE_SUITE (the top-level suite name). Cases that plant raw bytes or reopen files are LMDB's
// alone (LATCHKEY_STORE_LMDB).
#include "tests/unit/store/fixture.hpp"

// Each including TU has its own fixtures (anonymous namespace) by design; GCC warns about that in an included file.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wsubobject-linkage"
#endif

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace latchkey::store;
using namespace latchkey::store::test;
namespace data = boost::unit_test::data;

namespace {

using store_fixture = latchkey::store::test::basic_store_fixture<LATCHKEY_STORE_BACKEND>;

auto const key_exists = make_error_code(errc::key_exists);

using ids = std::vector<std::string>;

struct users_fixture : store_fixture {
    result<void> insert(user_record const& u, unique_field* conflict = nullptr) {
        return write([&](write_txn& w) { return w.users().put(u, nullptr, conflict); });
    }
    result<void> update(user_record const& u, user_record const& before, unique_field* conflict = nullptr) {
        return write([&](write_txn& w) { return w.users().put(u, &before, conflict); });
    }
    std::optional<user_record> user(std::string const& id) {
        return read([&](read_txn& t) { return t.users().get(id); }).value();
    }
    std::optional<std::string> by_email(std::string const& v) {
        return read([&](read_txn& t) { return t.users().id_by_email(v); }).value();
    }
    std::optional<std::string> by_phone(std::string const& v) {
        return read([&](read_txn& t) { return t.users().id_by_phone(v); }).value();
    }
    std::optional<std::string> by_username(std::string const& v) {
        return read([&](read_txn& t) { return t.users().id_by_username(v); }).value();
    }
    std::optional<std::string> by_external_id(std::string const& v) {
        return read([&](read_txn& t) { return t.users().id_by_external_id(v); }).value();
    }
    std::optional<std::string> by_idn(std::string const& v) {
        return read([&](read_txn& t) { return t.users().id_by_identification(v); }).value();
    }
    result<std::vector<user_record>> list(user_filter const& f) {
        return read([&](read_txn& t) { return t.users().list(f); });
    }
    ids list_ids(user_filter const& f) { return ids_of(list(f).value()); }
    std::size_t count(user_filter const& f) {
        return read([&](read_txn& t) { return t.users().count(f); }).value();
    }

    /// Alice: two emails (one mixed case), a phone, a username and an external id.
    user_record alice() {
        user_record u = make_user("user_alice", "Alice@Example.com", "Alice");
        u.identifications.push_back(email("idn_alice_2", "alice@work.example"));
        u.identifications.push_back(phone("idn_alice_p", "+15555550100"));
        u.primary_phone_number_id = "idn_alice_p";
        u.external_id = "ext-alice";
        return u;
    }
};

/// prefix + i zero-padded to `width` digits: ids that sort like the numbers.
std::string padded(std::string prefix, int i, std::size_t width) {
    std::string n = std::to_string(i);
    return prefix + std::string(width > n.size() ? width - n.size() : 0, '0') + n;
}

user_filter order(std::string o) {
    user_filter f;
    f.order_by = std::move(o);
    return f;
}

}  // namespace

#ifdef LATCHKEY_STORE_SUITE_DECORATOR  // e.g. the PostgreSQL backend's "skip without PostgreSQL"
BOOST_AUTO_TEST_SUITE(LATCHKEY_STORE_SUITE, LATCHKEY_STORE_SUITE_DECORATOR)
#else
BOOST_AUTO_TEST_SUITE(LATCHKEY_STORE_SUITE)
#endif

// The transaction semantics of the seam itself (store/store.hpp): what every backend promises its callers.
BOOST_AUTO_TEST_SUITE(store_seam)

BOOST_FIXTURE_TEST_CASE(after_commit_hooks_run_after_a_commit_only, store_fixture) {
    std::vector<std::string> ran;
    bool visible_in_hook = false;
    auto ok = write([&](write_txn& w) -> result<void> {
        w.after_commit([&] {
            ran.push_back("first");
            // The hook runs after the commit: a new read txn sees the write.
            visible_in_hook = store.with_read([](read_txn& t) { return t.meta().get("k"); })->has_value();
        });
        w.after_commit([&] { ran.push_back("second"); });
        BOOST_TEST(ran.empty());  // queued, not run inside the txn
        return w.meta().put("k", "v");
    });
    BOOST_TEST_REQUIRE(ok.has_value());
    BOOST_TEST(joined(ran) == "first,second");
    BOOST_TEST(visible_in_hook);

    ran.clear();
    auto aborted = write([&](write_txn& w) -> result<void> {
        w.after_commit([&] { ran.push_back("aborted"); });
        if (auto r = w.meta().put("k2", "v"); !r) return r;
        return make_error_code(errc::aborted);
    });
    BOOST_TEST(aborted.error() == make_error_code(errc::aborted));
    BOOST_TEST(ran.empty());
    BOOST_TEST(!read([](read_txn& t) { return t.meta().get("k2"); })->has_value());

    // A failed write (a store error inside it) drops its hooks too.
    auto refused = write([&](write_txn& w) -> result<void> {
        w.after_commit([&] { ran.push_back("refused"); });
        return w.meta().put("", "empty keys are never stored");
    });
    BOOST_TEST(refused.error() == make_error_code(errc::invalid_key));
    BOOST_TEST(ran.empty());
}

BOOST_FIXTURE_TEST_CASE(the_version_moves_with_every_commit_and_only_then, store_fixture) {
    auto const v0 = store.version();
    BOOST_TEST(read([](read_txn& t) -> result<std::uint64_t> { return t.version(); }).value() == v0);
    BOOST_TEST_REQUIRE(write([](write_txn& w) { return w.meta().put("a", "1"); }).has_value());
    auto const v1 = store.version();
    BOOST_TEST(v1 > v0);
    BOOST_TEST(read([](read_txn& t) -> result<std::uint64_t> { return t.version(); }).value() == v1);
    auto r = write([](write_txn& w) -> result<void> {
        if (auto x = w.meta().put("b", "2"); !x) return x;
        return make_error_code(errc::aborted);
    });
    BOOST_TEST(r.has_error());
    BOOST_TEST(store.version() == v1);  // an abort changes nothing
    BOOST_TEST(read([](read_txn& t) -> result<std::uint64_t> { return t.version(); }).value() == v1);
    BOOST_TEST_REQUIRE(write([](write_txn& w) { return w.meta().put("c", "3"); }).has_value());
    BOOST_TEST(store.version() > v1);
}

BOOST_FIXTURE_TEST_CASE(a_read_txn_keeps_its_snapshot_while_writes_land, store_fixture) {
    BOOST_TEST_REQUIRE(write([](write_txn& w) { return w.meta().put("k", "old"); }).has_value());
    auto r = read([&](read_txn& t) -> result<void> {
        auto const before = t.version();
        auto w = store.with_write([](write_txn& x) -> result<void> {
            if (auto p = x.meta().put("k", "new"); !p) return p;
            return x.users().put(make_user("user_late", "late@example.com"), nullptr);
        });
        BOOST_TEST_REQUIRE(w.has_value());
        BOOST_TEST(t.version() == before);
        BOOST_TEST(t.meta().get("k")->value() == "old");  // the snapshot, not the newer commit
        BOOST_TEST(!t.users().get("user_late")->has_value());
        BOOST_TEST(!t.users().id_by_email("late@example.com")->has_value());
        return {};
    });
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(read([](read_txn& t) { return t.meta().get("k"); })->value() == "new");
    BOOST_TEST(read([](read_txn& t) { return t.users().get("user_late"); })->has_value());
}

BOOST_FIXTURE_TEST_CASE(a_write_sees_its_own_writes_and_an_exception_aborts_it, store_fixture) {
    auto r = write([](write_txn& w) -> result<void> {
        if (auto p = w.users().put(make_user("user_1", "one@example.com"), nullptr); !p) return p;
        auto u = w.users().get("user_1");  // reads in a write txn see its writes
        if (!u || !*u) return make_error_code(errc::not_found);
        auto id = w.users().id_by_email("ONE@example.com");
        if (!id || !*id) return make_error_code(errc::not_found);
        return {};
    });
    BOOST_TEST(r.has_value());
    BOOST_CHECK_THROW(write([](write_txn& w) -> result<void> {
                          if (auto p = w.meta().put("thrown", "1"); !p) return p;
                          throw std::runtime_error("handler failure");
                      }),
                      std::runtime_error);
    BOOST_TEST(!read([](read_txn& t) { return t.meta().get("thrown"); })->has_value());
    // The store is usable after it (the writer is free again).
    BOOST_TEST(write([](write_txn& w) { return w.meta().put("after", "1"); }).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(store_db_users)

BOOST_FIXTURE_TEST_CASE(a_user_round_trips, users_fixture) {
    user_record u = filled<user_record>();
    u.id = "user_full";
    for (std::size_t i = 0; i < u.identifications.size(); ++i) {  // indexable, distinct keys
        u.identifications[i].id = "idn_full_" + std::to_string(i);
        u.identifications[i].value = "v" + std::to_string(i);
    }
    BOOST_TEST_REQUIRE(insert(u).has_value());
    auto got = user("user_full");
    BOOST_TEST_REQUIRE(got.has_value());
    BOOST_TEST(records_equal(*got, u));
    BOOST_TEST(!user("user_missing").has_value());
    BOOST_TEST(!user(std::string(2000, 'u')).has_value());  // longer than any key: absent, not an error
    BOOST_TEST(!user("").has_value());
}

BOOST_FIXTURE_TEST_CASE(an_external_account_is_found_by_its_identification_and_owned_once, users_fixture) {
    // Social sign-in (issue 15) keys a provider identity in the identification index.
    user_record a = make_user("user_ext_a", "a@example.com", "A");
    external_account_record ea;
    ea.id = "eac_1";
    ea.identification_id = "idn_oauth_0123456789abcdef";
    ea.provider = "oauth_custom_acme";
    ea.provider_user_id = "sub-1";
    a.external_accounts.push_back(ea);
    BOOST_TEST_REQUIRE(insert(a).has_value());
    BOOST_TEST(by_idn("idn_oauth_0123456789abcdef") == "user_ext_a");
    BOOST_TEST(user("user_ext_a")->external_accounts.at(0).provider_user_id == "sub-1");
    user_record b = make_user("user_ext_b", "b@example.com", "B");
    b.external_accounts.push_back(ea);
    BOOST_TEST(insert(b).error() == key_exists);
    // Unlinking releases the identity.
    user_record const before = a;
    a.external_accounts.clear();
    BOOST_TEST_REQUIRE(update(a, before).has_value());
    BOOST_TEST(!by_idn("idn_oauth_0123456789abcdef").has_value());
    BOOST_TEST(insert(b).has_value());
}

BOOST_FIXTURE_TEST_CASE(every_index_resolves_to_the_user, users_fixture) {
    BOOST_TEST_REQUIRE(insert(alice()).has_value());
    BOOST_TEST(by_email("alice@example.com") == "user_alice");
    BOOST_TEST(by_email("ALICE@EXAMPLE.COM") == "user_alice");
    BOOST_TEST(by_email("alice@work.example") == "user_alice");
    BOOST_TEST(by_phone("+15555550100") == "user_alice");
    BOOST_TEST(by_username("aLiCe") == "user_alice");
    BOOST_TEST(by_external_id("ext-alice") == "user_alice");
    BOOST_TEST(!by_external_id("EXT-ALICE").has_value());  // external ids are exact
    for (auto const* idn : {"idn_user_alice_e", "idn_alice_2", "idn_alice_p"}) BOOST_TEST(by_idn(idn) == "user_alice");
    BOOST_TEST(!by_email("bob@example.com").has_value());
}

// Each row: a second user that collides with alice on exactly one field.
struct collision {
    char const* what;
    unique_field field;
    void (*apply)(user_record&);
};
std::ostream& operator<<(std::ostream& os, collision const& c) { return os << c.what; }

collision const collisions[] = {
    {"email in another case", unique_field::email_address,
     [](user_record& u) { u.identifications.push_back(email("idn_bob_x", "ALICE@example.COM")); }},
    {"second email", unique_field::email_address,
     [](user_record& u) { u.identifications.push_back(email("idn_bob_x", "alice@work.example")); }},
    {"phone", unique_field::phone_number,
     [](user_record& u) { u.identifications.push_back(phone("idn_bob_x", "+15555550100")); }},
    {"username in another case", unique_field::username, [](user_record& u) { u.username = "ALICE"; }},
    {"external id", unique_field::external_id, [](user_record& u) { u.external_id = "ext-alice"; }},
    {"identification id", unique_field::none,
     [](user_record& u) { u.identifications.push_back(email("idn_alice_2", "fresh@example.com")); }},
};

BOOST_DATA_TEST_CASE_F(users_fixture, a_key_held_by_another_user_is_key_exists_and_nothing_is_written,
                       data::make(collisions), c) {
    BOOST_TEST_REQUIRE(insert(alice()).has_value());
    user_record bob = make_user("user_bob", "bob@example.com", "bob");
    bob.identifications.push_back(phone("idn_bob_p", "+15555550199"));
    bob.external_id = "ext-bob";
    c.apply(bob);
    unique_field f = unique_field::none;
    auto r = insert(bob, &f);
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error() == key_exists);
    BOOST_TEST(f == c.field);
    // Nothing of bob's was written, and alice still owns everything.
    BOOST_TEST(!user("user_bob").has_value());
    BOOST_TEST(!by_email("bob@example.com").has_value());
    BOOST_TEST(!by_phone("+15555550199").has_value());
    BOOST_TEST(!by_username("bob").has_value());
    BOOST_TEST(!by_external_id("ext-bob").has_value());
    BOOST_TEST(!by_idn("idn_user_bob_e").has_value());
    BOOST_TEST(by_email("alice@work.example") == "user_alice");
    BOOST_TEST(by_idn("idn_alice_2") == "user_alice");
    BOOST_TEST(by_username("alice") == "user_alice");
}

BOOST_FIXTURE_TEST_CASE(duplicates_inside_one_record_are_key_exists, users_fixture) {
    user_record u = make_user("user_dup", "dup@example.com");
    u.identifications.push_back(email("idn_dup_2", "DUP@example.com"));
    unique_field f = unique_field::none;
    BOOST_TEST(insert(u, &f).error() == key_exists);
    BOOST_TEST(f == unique_field::email_address);
    u = make_user("user_dup", "dup@example.com");
    u.identifications.push_back(phone("idn_p1", "+1555"));
    u.identifications.push_back(phone("idn_p2", "+1555"));
    BOOST_TEST(insert(u, &f).error() == key_exists);
    BOOST_TEST(f == unique_field::phone_number);
    BOOST_TEST(!user("user_dup").has_value());
}

BOOST_FIXTURE_TEST_CASE(an_insert_never_overwrites_an_existing_id, users_fixture) {
    BOOST_TEST_REQUIRE(insert(make_user("user_1", "one@example.com")).has_value());
    unique_field f = unique_field::email_address;
    BOOST_TEST(insert(make_user("user_1", "other@example.com"), &f).error() == key_exists);
    BOOST_TEST(f == unique_field::none);
    BOOST_TEST(user("user_1")->identifications[0].value == "one@example.com");
    BOOST_TEST(!by_email("other@example.com").has_value());
    BOOST_TEST(insert(make_user("", "empty-id@example.com")).error() == make_error_code(errc::invalid_key));
}

BOOST_FIXTURE_TEST_CASE(an_update_frees_the_keys_it_drops, users_fixture) {
    auto const before = alice();
    BOOST_TEST_REQUIRE(insert(before).has_value());
    // Re-saving unchanged keys is not a conflict with oneself.
    BOOST_TEST_REQUIRE(update(before, before).has_value());
    user_record after = before;
    after.identifications[0].value = "alice@new.example";  // email changed
    after.identifications.pop_back();                      // phone removed
    after.username = "alice2";
    after.external_id.clear();
    BOOST_TEST_REQUIRE(update(after, before).has_value());
    BOOST_TEST(by_email("alice@new.example") == "user_alice");
    BOOST_TEST(by_username("alice2") == "user_alice");
    for (auto const& gone : {by_email("alice@example.com"), by_phone("+15555550100"), by_username("alice"),
                             by_external_id("ext-alice"), by_idn("idn_alice_p")})
        BOOST_TEST(!gone.has_value());
    BOOST_TEST(by_idn("idn_alice_2") == "user_alice");  // kept identifications stay indexed
    // Someone else can now take every freed key.
    user_record bob = make_user("user_bob", "alice@example.com", "alice");
    bob.identifications.push_back(phone("idn_bob_p", "+15555550100"));
    bob.external_id = "ext-alice";
    BOOST_TEST(insert(bob).has_value());
}

BOOST_FIXTURE_TEST_CASE(a_stale_previous_cannot_leave_dangling_keys, users_fixture) {
    auto const v1 = make_user("user_1", "v1@example.com");
    BOOST_TEST_REQUIRE(insert(v1).has_value());
    auto v2 = v1;
    v2.identifications[0].value = "v2@example.com";
    BOOST_TEST_REQUIRE(update(v2, v1).has_value());
    auto v3 = v1;
    v3.identifications[0].value = "v3@example.com";
    BOOST_TEST_REQUIRE(update(v3, v1).has_value());  // caller passes v1 again, but v2's key is what is stored
    BOOST_TEST(!by_email("v2@example.com").has_value());
    BOOST_TEST(!by_email("v1@example.com").has_value());
    BOOST_TEST(by_email("v3@example.com") == "user_1");
}

BOOST_FIXTURE_TEST_CASE(delete_user_clears_every_index_and_session_link, users_fixture) {
    auto const a = alice();
    BOOST_TEST_REQUIRE(insert(a).has_value());
    BOOST_TEST_REQUIRE(insert(make_user("user_alice2", "other@example.com")).has_value());  // id with a's as prefix
    BOOST_TEST_REQUIRE(write([&](write_txn& w) -> result<void> {
                           for (auto const& s : {make_session("sess_1", "client_1", "user_alice", "ended"),
                                                 make_session("sess_2", "client_1", "user_alice", "revoked"),
                                                 make_session("sess_3", "client_2", "user_alice2", "active")})
                               if (auto r = w.sessions().put(s); !r) return r;
                           return {};
                       }).has_value());
    BOOST_TEST_REQUIRE(write([&](write_txn& w) { return w.users().remove(a); }).has_value());
    BOOST_TEST(!user("user_alice").has_value());
    for (auto const& gone :
         {by_email("alice@example.com"), by_email("alice@work.example"), by_phone("+15555550100"), by_username("alice"),
          by_external_id("ext-alice"), by_idn("idn_alice_2"), by_idn("idn_alice_p"), by_idn("idn_user_alice_e")})
        BOOST_TEST(!gone.has_value());
    BOOST_TEST(read([&](read_txn& t) { return t.sessions().of_user("user_alice"); })->empty());
    // The session records stay; the other user's link is untouched.
    BOOST_TEST(read([&](read_txn& t) { return t.sessions().get("sess_1"); })->has_value());
    BOOST_TEST(ids_of(read([&](read_txn& t) { return t.sessions().of_user("user_alice2"); }).value()) == ids{"sess_3"});
    // Deleting again is fine, and every key is free again.
    BOOST_TEST(write([&](write_txn& w) { return w.users().remove(a); }).has_value());
    auto again = alice();
    again.id = "user_new";
    BOOST_TEST(insert(again).has_value());
}

BOOST_FIXTURE_TEST_CASE(a_refused_put_user_writes_nothing_even_if_the_txn_commits, users_fixture) {
    auto const a = alice();
    BOOST_TEST_REQUIRE(insert(a).has_value());
    BOOST_TEST_REQUIRE(insert(make_user("user_bob", "bob@example.com", "bob")).has_value());
    auto refused_then_commit = [&](user_record const& u) {
        boost::system::error_code seen;
        auto r = write([&](write_txn& w) -> result<void> {
            if (auto p = w.users().put(u, &a); !p) seen = p.error();
            return {};  // commit whatever put_user may have written
        });
        BOOST_TEST_REQUIRE(r.has_value());
        return seen;
    };
    user_record taken = a;
    taken.identifications[0].value = "alice@new.example";  // would free alice@example.com ...
    taken.username = "BOB";                                // ... but the username is taken
    BOOST_TEST(refused_then_commit(taken) == key_exists);
    user_record too_long = a;
    too_long.identifications[0].value = std::string(600, 'a') + "@example.com";
    BOOST_TEST(refused_then_commit(too_long) == make_error_code(errc::invalid_key));
    BOOST_TEST(by_email("alice@example.com") == "user_alice");
    BOOST_TEST(!by_email("alice@new.example").has_value());
    BOOST_TEST(by_username("alice") == "user_alice");
    BOOST_TEST(by_username("bob") == "user_bob");
    BOOST_TEST(records_equal(user("user_alice").value(), a));
}

BOOST_FIXTURE_TEST_CASE(a_failed_put_user_rolls_back_the_whole_write, users_fixture) {
    BOOST_TEST_REQUIRE(insert(alice()).has_value());
    auto r = write([&](write_txn& w) -> result<void> {
        if (auto p = w.meta().put("half", "written"); !p) return p;
        if (auto p = w.users().put(make_user("user_ok", "ok@example.com"), nullptr); !p) return p;
        return w.users().put(make_user("user_bad", "alice@example.com"), nullptr);
    });
    BOOST_TEST(r.error() == key_exists);
    BOOST_TEST(!read([&](read_txn& t) { return t.meta().get("half"); })->has_value());
    BOOST_TEST(!user("user_ok").has_value());
    BOOST_TEST(!by_email("ok@example.com").has_value());
}

#if LATCHKEY_STORE_LMDB
BOOST_FIXTURE_TEST_CASE(a_corrupted_record_is_an_error_not_a_crash, users_fixture) {
    BOOST_TEST_REQUIRE(insert(make_user("user_1", "one@example.com")).has_value());
    BOOST_TEST_REQUIRE(raw_put(store, "users", "user_1", "\x01garbage").has_value());
    auto r = read([&](read_txn& t) { return t.users().get("user_1"); });
    BOOST_TEST(r.error() == make_error_code(errc::corrupted));
}
#endif

BOOST_AUTO_TEST_SUITE_END()

// Claims on an address (store/store.hpp, users_repo::put): owning claims are unique, pending ones are not and never
// block; an owning claim removes the other users' pending ones.
BOOST_AUTO_TEST_SUITE(store_db_claims)

namespace {

user_record pending_user(std::string id, std::string own, std::string pending_email) {
    user_record u = make_user(std::move(id), std::move(own));
    u.identifications.push_back(email("idn_" + u.id + "_pending", std::move(pending_email), "unverified"));
    return u;
}

bool holds(std::optional<user_record> const& u, std::string const& value) {
    if (!u) return false;
    for (auto const& i : u->identifications)
        if (i.value == value) return true;
    return false;
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(pending_claims_neither_block_nor_resolve, users_fixture) {
    BOOST_TEST_REQUIRE(insert(pending_user("user_a", "a@example.com", "X@corp.example")).has_value());
    BOOST_TEST_REQUIRE(insert(pending_user("user_b", "b@example.com", "x@corp.example")).has_value());
    user_record c = pending_user("user_c", "c@example.com", "+15555550111");
    c.identifications.back() = phone("idn_c_p", "+15555550111", "");
    BOOST_TEST_REQUIRE(insert(c).has_value());
    BOOST_TEST(!by_email("x@corp.example").has_value());
    BOOST_TEST(!by_phone("+15555550111").has_value());
    BOOST_TEST(by_idn("idn_user_a_pending") == "user_a");
    // The BAPI filter still finds every holder, pending or not.
    user_filter f;
    f.email_addresses = {"X@CORP.example"};
    BOOST_TEST(list_ids(f) == (ids{"user_b", "user_a"}));
    BOOST_TEST(count(f) == 2u);
    // Still one claim per address inside a record, in any state.
    user_record twice = pending_user("user_d", "d@example.com", "D@example.com");
    unique_field conflict = unique_field::none;
    BOOST_TEST(insert(twice, &conflict).error() == key_exists);
    BOOST_TEST(conflict == unique_field::email_address);
}

BOOST_FIXTURE_TEST_CASE(an_owning_claim_removes_the_other_pending_claims, users_fixture) {
    user_record a = pending_user("user_a", "a@example.com", "x@corp.example");
    a.primary_email_address_id = "idn_user_a_pending";  // even a primary (never allowed by the API) goes
    a.updated_at = 5;
    BOOST_TEST_REQUIRE(insert(a).has_value());
    BOOST_TEST_REQUIRE(insert(pending_user("user_b", "b@example.com", "x@corp.example")).has_value());
    user_record owner = make_user("user_o", "X@Corp.example");
    owner.updated_at = 42;
    BOOST_TEST_REQUIRE(insert(owner).has_value());
    BOOST_TEST(by_email("x@corp.example") == "user_o");
    auto got = user("user_a");
    BOOST_TEST(!holds(got, "x@corp.example"));
    BOOST_TEST(holds(got, "a@example.com"));
    BOOST_TEST(got->primary_email_address_id == "idn_user_a_e");  // moved to an owning claim
    BOOST_TEST(got->updated_at == 42);
    BOOST_TEST(!by_idn("idn_user_a_pending").has_value());
    BOOST_TEST(!holds(user("user_b"), "x@corp.example"));
    user_filter f;
    f.email_addresses = {"x@corp.example"};
    BOOST_TEST(list_ids(f) == ids{"user_o"});
    // From now on a pending claim on the owned address is refused, like an owning one.
    unique_field conflict = unique_field::none;
    BOOST_TEST(insert(pending_user("user_e", "e@example.com", "x@corp.example"), &conflict).error() == key_exists);
    BOOST_TEST(conflict == unique_field::email_address);
    BOOST_TEST(insert(make_user("user_f", "x@corp.example"), &conflict).error() == key_exists);
}

BOOST_FIXTURE_TEST_CASE(verifying_a_pending_claim_moves_it_to_the_owner_index, users_fixture) {
    auto const a = pending_user("user_a", "a@example.com", "x@corp.example");
    BOOST_TEST_REQUIRE(insert(a).has_value());
    BOOST_TEST_REQUIRE(insert(pending_user("user_b", "b@example.com", "x@corp.example")).has_value());
    user_record verified = a;
    verified.identifications.back().verification.status = "verified";
    BOOST_TEST_REQUIRE(update(verified, a).has_value());
    BOOST_TEST(by_email("x@corp.example") == "user_a");
    BOOST_TEST(holds(user("user_a"), "x@corp.example"));
    BOOST_TEST(!holds(user("user_b"), "x@corp.example"));
    // Back to pending (BAPI verified=false): nobody owns it, and others may claim it again.
    BOOST_TEST_REQUIRE(update(a, verified).has_value());
    BOOST_TEST(!by_email("x@corp.example").has_value());
    BOOST_TEST(insert(pending_user("user_c", "c@example.com", "x@corp.example")).has_value());
    // A reserved claim owns too.
    user_record reserved = make_user("user_r", "r@example.com");
    reserved.identifications.push_back(phone("idn_r_p", "+15555550123", "unverified"));
    reserved.identifications.back().reserved = true;
    BOOST_TEST_REQUIRE(insert(reserved).has_value());
    BOOST_TEST(by_phone("+15555550123") == "user_r");
}

BOOST_FIXTURE_TEST_CASE(delete_user_drops_its_pending_claims, users_fixture) {
    auto const a = pending_user("user_a", "a@example.com", "x@corp.example");
    BOOST_TEST_REQUIRE(insert(a).has_value());
    BOOST_TEST_REQUIRE(write([&](write_txn& w) { return w.users().remove(a); }).has_value());
    user_filter f;
    f.email_addresses = {"x@corp.example"};
    BOOST_TEST(list_ids(f).empty());
    BOOST_TEST(insert(make_user("user_o", "x@corp.example")).has_value());
}

#if LATCHKEY_STORE_LMDB
BOOST_AUTO_TEST_CASE(open_moves_pending_claims_of_an_older_store_out_of_the_unique_index) {
    tmp_dir dir;
    auto const path = dir.sub("db");
    {
        auto store = open_store(path);
        auto r = store->with_write([&](write_txn& w) -> result<void> {
            if (auto x = w.users().put(pending_user("user_a", "a@example.com", "x@corp.example"), nullptr); !x)
                return x;
            return w.meta().remove("identifier_claims");
        });
        BOOST_TEST_REQUIRE(r.has_value());
        // Make it look like a store from before the claim rules: the pending claim in the unique index.
        BOOST_TEST_REQUIRE(raw_put(*store, "users_by_email", "x@corp.example", "user_a").has_value());
        BOOST_TEST_REQUIRE(
            raw_del(*store, "users_by_pending_claim", std::string("e\0x@corp.example\0user_a", 23)).has_value());
        BOOST_TEST(store->with_read([&](read_txn& t) { return t.users().id_by_email("x@corp.example"); })->has_value());
    }
    auto store = open_store(path);
    BOOST_TEST(!store->with_read([&](read_txn& t) { return t.users().id_by_email("x@corp.example"); })->has_value());
    BOOST_TEST(store->with_read([&](read_txn& t) { return t.users().id_by_email("a@example.com"); })->value() ==
               "user_a");
    // The moved claim behaves as pending: an owner takes the address from it.
    auto r =
        store->with_write([&](write_txn& w) { return w.users().put(make_user("user_o", "x@corp.example"), nullptr); });
    BOOST_TEST_REQUIRE(r.has_value());
    auto a = store->with_read([&](read_txn& t) { return t.users().get("user_a"); }).value();
    BOOST_TEST(!holds(a, "x@corp.example"));
    BOOST_TEST(holds(a, "a@example.com"));
}
#endif

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(store_db_list_users)

namespace {

/// Four users with hand-picked values, so every order below is written out by hand.
struct people : users_fixture {
    people() {
        auto add = [&](std::string id, std::int64_t created, std::int64_t updated, std::int64_t signed_in,
                       std::string username, std::string first, std::string last, std::string mail, std::string tel,
                       std::string ext) {
            user_record u = make_user(std::move(id), std::move(mail), std::move(username), created);
            u.updated_at = updated;
            u.last_sign_in_at = signed_in;
            u.first_name = std::move(first);
            u.last_name = std::move(last);
            u.external_id = std::move(ext);
            if (!tel.empty()) {
                u.identifications.push_back(phone("idn_" + u.id + "_p", std::move(tel)));
                u.primary_phone_number_id = u.identifications.back().id;
            }
            u.private_metadata = R"({"note":"needle"})";  // not searched by query
            u.password_digest = "$needle$";
            BOOST_TEST_REQUIRE(insert(u).has_value());
        };
        add("user_1", 1, 30, 0, "bob", "Zed", "adams", "c@x.io", "+3", "ext-1");
        add("user_2", 2, 10, 5, "Alice", "amy", "Brown", "a@x.io", "+1", "ext-2");
        add("user_3", 3, 20, 5, "", "Bea", "carter", "B@x.io", "+2", "");
        add("user_4", 4, 40, 1, "carl", "bea", "Adams", "d@x.io", "", "ext-4");
    }
};

struct order_case {
    char const* order_by;
    ids expected;
};
std::ostream& operator<<(std::ostream& os, order_case const& c) { return os << c.order_by; }

order_case const orders[] = {
    {"-created_at", {"user_4", "user_3", "user_2", "user_1"}},
    {"+created_at", {"user_1", "user_2", "user_3", "user_4"}},
    {"created_at", {"user_4", "user_3", "user_2", "user_1"}},  // no sign: descending
    {"+updated_at", {"user_2", "user_3", "user_1", "user_4"}},
    {"-updated_at", {"user_4", "user_1", "user_3", "user_2"}},
    {"+last_sign_in_at", {"user_1", "user_4", "user_2", "user_3"}},  // 2 and 3 tie: creation order
    {"-last_sign_in_at", {"user_3", "user_2", "user_4", "user_1"}},  // ... reversed
    {"+username", {"user_3", "user_2", "user_1", "user_4"}},         // "" < alice < bob < carl
    {"-username", {"user_4", "user_1", "user_2", "user_3"}},
    {"+first_name", {"user_2", "user_3", "user_4", "user_1"}},  // amy, Bea = bea, Zed
    {"-first_name", {"user_1", "user_4", "user_3", "user_2"}},
    {"+last_name", {"user_1", "user_4", "user_2", "user_3"}},  // adams = Adams, Brown, carter
    {"-last_name", {"user_3", "user_2", "user_4", "user_1"}},
    {"+email_address", {"user_2", "user_3", "user_1", "user_4"}},  // a, B, c, d
    {"-email_address", {"user_4", "user_1", "user_3", "user_2"}},
    {"+phone_number", {"user_4", "user_2", "user_3", "user_1"}},  // none, +1, +2, +3
    {"-phone_number", {"user_1", "user_3", "user_2", "user_4"}},
    {"-unknown", {"user_4", "user_3", "user_2", "user_1"}},  // invalid: -created_at
    {"+unknown", {"user_4", "user_3", "user_2", "user_1"}},
    {"", {"user_4", "user_3", "user_2", "user_1"}},
};

}  // namespace

BOOST_DATA_TEST_CASE_F(people, order_by_sorts_in_both_directions, data::make(orders), c) {
    BOOST_TEST(joined(list_ids(order(c.order_by))) == joined(c.expected));
    // The page is cut after sorting.
    auto f = order(c.order_by);
    f.offset = 1;
    f.limit = 2;
    BOOST_TEST(joined(list_ids(f)) == joined(ids(c.expected.begin() + 1, c.expected.begin() + 3)));
}

BOOST_FIXTURE_TEST_CASE(filters_resolve_through_the_indexes, people) {
    auto with = [](auto set) {
        user_filter f;
        set(f);
        return f;
    };
    BOOST_TEST(joined(list_ids(with([](user_filter& f) {
                   f.email_addresses = {"A@X.IO", "c@x.io", "none@x.io"};
               }))) == "user_2,user_1");
    BOOST_TEST(joined(list_ids(with([](user_filter& f) { f.phone_numbers = {"+2", "+9"}; }))) == "user_3");
    BOOST_TEST(joined(list_ids(with([](user_filter& f) { f.usernames = {"ALICE", "carl"}; }))) == "user_4,user_2");
    BOOST_TEST(joined(list_ids(with([](user_filter& f) {
                   f.user_ids = {"user_1", "user_3", "user_9"};
               }))) == "user_3,user_1");
    BOOST_TEST(joined(list_ids(with([](user_filter& f) { f.external_ids = {"ext-4", "EXT-1"}; }))) == "user_4");
    // Lists AND together.
    BOOST_TEST(list_ids(with([](user_filter& f) {
                   f.email_addresses = {"a@x.io"};
                   f.usernames = {"bob"};
               })).empty());
    BOOST_TEST(joined(list_ids(with([](user_filter& f) {
                   f.email_addresses = {"a@x.io", "c@x.io"};
                   f.user_ids = {"user_1", "user_4"};
               }))) == "user_1");
    // A filter that matches nothing is empty, not "no filter".
    BOOST_TEST(list_ids(with([](user_filter& f) { f.email_addresses = {"none@x.io"}; })).empty());
    BOOST_TEST(count(with([](user_filter& f) { f.email_addresses = {"none@x.io"}; })) == 0u);
    // Filters combine with order_by and paging.
    auto f = with([](user_filter& g) {
        g.user_ids = {"user_1", "user_2", "user_3", "user_4"};
        g.order_by = "+updated_at";
        g.offset = 1;
        g.limit = 2;
    });
    BOOST_TEST(joined(list_ids(f)) == "user_3,user_1");
    BOOST_TEST(count(f) == 4u);
}

BOOST_FIXTURE_TEST_CASE(query_is_a_case_insensitive_substring_of_the_searched_fields, people) {
    auto q = [&](std::string text, std::string order_by = "-created_at") {
        user_filter f;
        f.query = std::move(text);
        f.order_by = std::move(order_by);
        return joined(list_ids(f));
    };
    BOOST_TEST(q("USER_3") == "user_3");      // id
    BOOST_TEST(q("b@X") == "user_3");         // email
    BOOST_TEST(q("+2") == "user_3");          // phone
    BOOST_TEST(q("CAR") == "user_4,user_3");  // username carl, last name carter
    BOOST_TEST(q("zed") == "user_1");         // first name
    BOOST_TEST(q("BROWN") == "user_2");       // last name
    BOOST_TEST(q("ext-4") == "user_4");       // external id
    BOOST_TEST(q("needle").empty());          // metadata and digests are not searched
    BOOST_TEST(q("x.io") == "user_4,user_3,user_2,user_1");
    BOOST_TEST(q("x.io", "+email_address") == "user_2,user_3,user_1,user_4");
    BOOST_TEST(q("nobody").empty());
    user_filter f;
    f.query = "A";  // alice, amy, adams, carter, carl, Adams, ...
    BOOST_TEST(count(f) == 4u);
    f.query = "bea";
    BOOST_TEST(count(f) == 2u);
    f.limit = 1;
    f.offset = 1;
    BOOST_TEST(joined(list_ids(f)) == "user_3");
    BOOST_TEST(count(f) == 2u);  // limit/offset do not change the count
}

BOOST_FIXTURE_TEST_CASE(paging_edges, users_fixture) {
    for (int i = 0; i < 25; ++i) {
        BOOST_TEST_REQUIRE(
            insert(make_user(padded("user_", i, 2), "u" + std::to_string(i) + "@x.io", {}, 1000 + i)).has_value());
    }
    user_filter f;  // defaults: -created_at, limit 10
    auto page = list_ids(f);
    BOOST_TEST_REQUIRE(page.size() == 10u);
    BOOST_TEST(page.front() == "user_24");
    BOOST_TEST(page.back() == "user_15");
    f.offset = 20;
    page = list_ids(f);
    BOOST_TEST(joined(page) == "user_04,user_03,user_02,user_01,user_00");
    f.offset = 25;
    BOOST_TEST(list_ids(f).empty());
    f.offset = 1000;
    BOOST_TEST(list_ids(f).empty());
    f.order_by = "+username";
    BOOST_TEST(list_ids(f).empty());
    f = {};
    f.limit = 0;
    BOOST_TEST(list_ids(f).empty());
    f.limit = 1000;
    BOOST_TEST(list_ids(f).size() == 25u);
    f.order_by = "+created_at";
    f.offset = 24;
    BOOST_TEST(joined(list_ids(f)) == "user_24");
    BOOST_TEST(count({}) == 25u);
}

#if LATCHKEY_STORE_LMDB
BOOST_FIXTURE_TEST_CASE(the_plain_listing_decodes_only_the_page, users_fixture) {
    for (int i = 0; i < 25; ++i) {
        BOOST_TEST_REQUIRE(
            insert(make_user(padded("user_", i, 2), "u" + std::to_string(i) + "@x.io", {}, 1000 + i)).has_value());
    }
    // Plant an undecodable record under the oldest id: only listings that reach it may fail.
    BOOST_TEST_REQUIRE(raw_put(store, "users", "user_00",
                               "\x01\xff"
                               "user")
                           .has_value());
    user_filter f;
    f.offset = 20;
    f.limit = 4;  // user_04 .. user_01: user_00 is neither skipped-by-decoding nor returned
    BOOST_TEST(joined(list_ids(f)) == "user_04,user_03,user_02,user_01");
    f.order_by = "+created_at";
    f.offset = 1;  // skipped without decoding
    BOOST_TEST(list(f).has_value());
    BOOST_TEST(count({}) == 25u);
    f = {};
    f.limit = 30;
    BOOST_TEST(list(f).error() == make_error_code(errc::corrupted));
    f.limit = 1;
    f.query = "u1";
    BOOST_TEST(list(f).has_value());  // user_00's bytes do not contain "u1": never decoded
    f.query = "user";
    f.offset = 30;  // has to decode everything to count matches
    BOOST_TEST(list(f).error() == make_error_code(errc::corrupted));
}
#endif

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(store_db_sessions_clients)

namespace {

struct sessions_fixture : store_fixture {
    sessions_fixture() {
        // user_a and user_ab: one id is a prefix of the other; the index must not mix them.
        client_record c1;
        c1.id = "client_1";
        c1.session_ids = {"sess_2", "sess_1", "sess_5", "sess_2"};  // attach order, with a duplicate
        auto r = write([&](write_txn& w) -> result<void> {
            for (auto const& s : {make_session("sess_3", "client_2", "user_a", "active"),
                                  make_session("sess_1", "client_1", "user_a", "ended"),
                                  make_session("sess_5", "client_1", "user_ab", "active"),
                                  make_session("sess_2", "client_1", "user_a", "active"),
                                  make_session("sess_4", "client_3", "user_b", "revoked")})
                if (auto x = w.sessions().put(s); !x) return x;
            return w.clients().put(c1);
        });
        BOOST_TEST_REQUIRE(r.has_value());
    }

    std::string sessions(std::string const& user, std::string const& client, std::string const& status,
                         std::size_t limit = 10, std::size_t offset = 0, std::size_t* total = nullptr) {
        auto r = read([&](read_txn& t) { return t.sessions().list(user, client, status, limit, offset, total); });
        BOOST_TEST_REQUIRE(r.has_value());
        return joined(ids_of(*r));
    }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(sessions_of_user_newest_first, sessions_fixture) {
    auto of = [&](std::string const& u) {
        return joined(ids_of(read([&](read_txn& t) { return t.sessions().of_user(u); }).value()));
    };
    BOOST_TEST(of("user_a") == "sess_3,sess_2,sess_1");
    BOOST_TEST(of("user_ab") == "sess_5");
    BOOST_TEST(of("user_") == "");
    BOOST_TEST(of("") == "");
    // Re-saving a session (status change) does not duplicate it.
    BOOST_TEST_REQUIRE(write([&](write_txn& w) {
                           return w.sessions().put(make_session("sess_2", "client_1", "user_a", "ended"));
                       }).has_value());
    BOOST_TEST(of("user_a") == "sess_3,sess_2,sess_1");
}

BOOST_FIXTURE_TEST_CASE(list_sessions_filters_pages_and_totals, sessions_fixture) {
    std::size_t total = 99;
    BOOST_TEST(sessions("", "", "", 10, 0, &total) == "sess_5,sess_4,sess_3,sess_2,sess_1");
    BOOST_TEST(total == 5u);
    BOOST_TEST(sessions("", "", "", 2, 1, &total) == "sess_4,sess_3");
    BOOST_TEST(total == 5u);
    BOOST_TEST(sessions("", "", "active", 10, 0, &total) == "sess_5,sess_3,sess_2");
    BOOST_TEST(total == 3u);
    BOOST_TEST(sessions("", "", "active", 1, 1, &total) == "sess_3");
    BOOST_TEST(total == 3u);
    BOOST_TEST(sessions("user_a", "", "", 10, 0, &total) == "sess_3,sess_2,sess_1");
    BOOST_TEST(total == 3u);
    BOOST_TEST(sessions("user_a", "", "active", 10, 0, &total) == "sess_3,sess_2");
    BOOST_TEST(total == 2u);
    BOOST_TEST(sessions("user_a", "client_1", "", 10, 0, &total) == "sess_2,sess_1");
    BOOST_TEST(total == 2u);
    BOOST_TEST(sessions("", "client_1", "", 10, 0, &total) == "sess_5,sess_2,sess_1");
    BOOST_TEST(total == 3u);
    BOOST_TEST(sessions("", "client_1", "active", 1, 0, &total) == "sess_5");
    BOOST_TEST(total == 2u);
    // A client without a record (deleted): found by scanning.
    BOOST_TEST(sessions("", "client_3", "", 10, 0, &total) == "sess_4");
    BOOST_TEST(total == 1u);
    BOOST_TEST(sessions("nobody", "", "", 10, 0, &total) == "");
    BOOST_TEST(total == 0u);
    // Past the end: empty page, the total still counts; limit 0 likewise; no total wanted is fine.
    BOOST_TEST(sessions("", "", "", 10, 5, &total) == "");
    BOOST_TEST(total == 5u);
    BOOST_TEST(sessions("", "", "ended", 0, 0, &total) == "");
    BOOST_TEST(total == 1u);
    BOOST_TEST(sessions("", "", "", 2, 0) == "sess_5,sess_4");
    BOOST_TEST(sessions("user_a", "", "", 1, 0) == "sess_3");
}

BOOST_FIXTURE_TEST_CASE(list_clients_newest_first_with_paging, store_fixture) {
    BOOST_TEST_REQUIRE(write([&](write_txn& w) -> result<void> {
                           for (int i = 0; i < 7; ++i) {
                               client_record c = filled<client_record>(i);
                               c.id = "client_" + std::to_string(i);
                               if (auto r = w.clients().put(c); !r) return r;
                           }
                           return {};
                       }).has_value());
    auto page = [&](std::size_t limit, std::size_t offset, std::size_t* total) {
        return joined(ids_of(read([&](read_txn& t) { return t.clients().list(limit, offset, total); }).value()));
    };
    std::size_t total = 0;
    BOOST_TEST(page(3, 0, &total) == "client_6,client_5,client_4");
    BOOST_TEST(total == 7u);
    BOOST_TEST(page(3, 6, &total) == "client_0");
    BOOST_TEST(page(3, 7, &total) == "");
    BOOST_TEST(page(0, 0, &total) == "");
    BOOST_TEST(total == 7u);
    BOOST_TEST(page(100, 0, nullptr) == "client_6,client_5,client_4,client_3,client_2,client_1,client_0");
    auto got = read([&](read_txn& t) { return t.clients().get("client_3"); }).value();
    BOOST_TEST_REQUIRE(got.has_value());
    auto expected = filled<client_record>(3);
    expected.id = "client_3";
    BOOST_TEST(records_equal(*got, expected));
    BOOST_TEST_REQUIRE(write([&](write_txn& w) { return w.clients().remove("client_3"); }).has_value());
    BOOST_TEST(page(100, 0, &total) == "client_6,client_5,client_4,client_2,client_1,client_0");
    BOOST_TEST(total == 6u);
    BOOST_TEST(!read([&](read_txn& t) { return t.clients().get("client_3"); })->has_value());
}

BOOST_FIXTURE_TEST_CASE(sign_ins_sign_ups_and_dev_browsers_round_trip, store_fixture) {
    auto si = filled<sign_in_record>();
    si.id = "sia_1";
    auto su = filled<sign_up_record>();
    su.id = "sua_1";
    auto dv = filled<dev_browser_record>();
    dv.id = "dvb_1";
    BOOST_TEST_REQUIRE(write([&](write_txn& w) -> result<void> {
                           if (auto r = w.sign_ins().put(si); !r) return r;
                           if (auto r = w.sign_ups().put(su); !r) return r;
                           return w.dev_browsers().put(dv);
                       }).has_value());
    BOOST_TEST(records_equal(read([&](read_txn& t) { return t.sign_ins().get("sia_1"); })->value(), si));
    BOOST_TEST(records_equal(read([&](read_txn& t) { return t.sign_ups().get("sua_1"); })->value(), su));
    BOOST_TEST(records_equal(read([&](read_txn& t) { return t.dev_browsers().get("dvb_1"); })->value(), dv));
    BOOST_TEST(!read([&](read_txn& t) { return t.sign_ins().get("sia_2"); })->has_value());
    BOOST_TEST(!read([&](read_txn& t) { return t.dev_browsers().get(std::string(600, 'd')); })->has_value());
}

BOOST_FIXTURE_TEST_CASE(jwt_template_names_are_unique, store_fixture) {
    auto tpl = [](std::string id, std::string name) {
        jwt_template_record j;
        j.id = std::move(id);
        j.name = std::move(name);
        j.claims = R"({"aud":"x"})";
        return j;
    };
    auto by_name = [&](std::string const& n) {
        auto r = read([&](read_txn& t) { return t.jwt_templates().by_name(n); }).value();
        return r ? r->id : std::string("<none>");
    };
    auto const t1 = tpl("jtmp_1", "supabase");
    BOOST_TEST_REQUIRE(write([&](write_txn& w) { return w.jwt_templates().put(t1, nullptr); }).has_value());
    unique_field f = unique_field::none;
    auto dup = write([&](write_txn& w) { return w.jwt_templates().put(tpl("jtmp_2", "supabase"), nullptr, &f); });
    BOOST_TEST(dup.error() == key_exists);
    BOOST_TEST(f == unique_field::jwt_template_name);
    BOOST_TEST(!read([&](read_txn& t) { return t.jwt_templates().get("jtmp_2"); })->has_value());
    BOOST_TEST(by_name("supabase") == "jtmp_1");
    // An insert reusing an id is refused; an update keeping its own name is not a conflict.
    BOOST_TEST(write([&](write_txn& w) {
                   return w.jwt_templates().put(tpl("jtmp_1", "other"), nullptr, &f);
               }).error() == key_exists);
    BOOST_TEST(f == unique_field::none);
    auto t1b = t1;
    t1b.lifetime = 120;
    BOOST_TEST(write([&](write_txn& w) { return w.jwt_templates().put(t1b, &t1); }).has_value());
    // A rename frees the old name for another template.
    auto t1c = t1b;
    t1c.name = "hasura";
    BOOST_TEST_REQUIRE(write([&](write_txn& w) { return w.jwt_templates().put(t1c, &t1b); }).has_value());
    BOOST_TEST(by_name("hasura") == "jtmp_1");
    BOOST_TEST(by_name("supabase") == "<none>");
    BOOST_TEST_REQUIRE(
        write([&](write_txn& w) { return w.jwt_templates().put(tpl("jtmp_2", "supabase"), nullptr); }).has_value());
    auto all = read([&](read_txn& t) { return t.jwt_templates().list(); }).value();
    BOOST_TEST(joined(ids_of(all)) == "jtmp_1,jtmp_2");
    BOOST_TEST(all[0].lifetime == 120);
    // Delete removes the name too.
    BOOST_TEST_REQUIRE(write([&](write_txn& w) { return w.jwt_templates().remove(t1c); }).has_value());
    BOOST_TEST(by_name("hasura") == "<none>");
    BOOST_TEST(!read([&](read_txn& t) { return t.jwt_templates().get("jtmp_1"); })->has_value());
    BOOST_TEST(
        write([&](write_txn& w) { return w.jwt_templates().put(tpl("jtmp_3", "hasura"), nullptr); }).has_value());
}

BOOST_FIXTURE_TEST_CASE(meta_is_a_small_string_table, store_fixture) {
    BOOST_TEST_REQUIRE(write([&](write_txn& w) { return w.meta().put("instance_id", "ins_1"); }).has_value());
    BOOST_TEST(read([&](read_txn& t) { return t.meta().get("instance_id"); })->value() == "ins_1");
    BOOST_TEST_REQUIRE(write([&](write_txn& w) { return w.meta().put("instance_id", "ins_2"); }).has_value());
    BOOST_TEST(read([&](read_txn& t) { return t.meta().get("instance_id"); })->value() == "ins_2");
    BOOST_TEST_REQUIRE(write([&](write_txn& w) { return w.meta().remove("instance_id"); }).has_value());
    BOOST_TEST(!read([&](read_txn& t) { return t.meta().get("instance_id"); })->has_value());
    BOOST_TEST(write([&](write_txn& w) { return w.meta().remove("never"); }).has_value());
    BOOST_TEST(write([&](write_txn& w) { return w.meta().put("", "v"); }).error() ==
               make_error_code(errc::invalid_key));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(store_db_storage)

#if LATCHKEY_STORE_LMDB
BOOST_AUTO_TEST_CASE(map_full_is_an_error_and_the_store_stays_readable) {
    tmp_dir dir;
    auto store = open_store(dir.sub("db"), 64 * 1024);
    BOOST_TEST_REQUIRE(store->with_write([&](write_txn& w) { return w.meta().put("first", "ok"); }).has_value());
    result<void> last;
    int written = 0;
    for (; written < 1000 && last.has_value(); ++written)
        last = store->with_write([&](write_txn& w) {
            return w.users().put(make_user("user_" + std::to_string(written), std::to_string(written) + "@example.com"),
                                 nullptr);
        });
    BOOST_TEST_REQUIRE(last.has_error());
    BOOST_TEST(last.error() == make_error_code(errc::map_full));
    BOOST_TEST(written > 1);
    auto first = store->with_read([&](read_txn& t) { return t.meta().get("first"); });
    BOOST_TEST_REQUIRE(first.has_value());
    BOOST_TEST(first->value() == "ok");
    BOOST_TEST(store->with_read([&](read_txn& t) { return t.users().get("user_0"); })->has_value());
    // The failed user left nothing behind.
    auto const failed = "user_" + std::to_string(written - 1);
    BOOST_TEST(!store->with_read([&](read_txn& t) { return t.users().get(failed); })->has_value());
}

BOOST_AUTO_TEST_CASE(data_survives_close_and_reopen) {
    tmp_dir dir;
    for (bool durable : {true, false}) {
        std::string const path = dir.sub(durable ? "durable" : "nosync");
        {
            auto store = open_store(path, 1 << 24, durable);
            auto r = store->with_write([&](write_txn& w) -> result<void> {
                if (auto x = w.users().put(make_user("user_9", "keep@example.com", "keeper"), nullptr); !x) return x;
                return w.sessions().put(make_session("sess_9", "client_9", "user_9", "active"));
            });
            BOOST_TEST_REQUIRE(r.has_value());
            if (!durable) BOOST_TEST_REQUIRE(store->sync().has_value());
        }
        auto store = open_store(path, 1 << 24, durable);
        BOOST_TEST(store->with_read([&](read_txn& t) { return t.users().get("user_9"); })->has_value());
        BOOST_TEST(store->with_read([&](read_txn& t) { return t.users().id_by_username("KEEPER"); })->value() ==
                   "user_9");
        BOOST_TEST(store->with_read([&](read_txn& t) { return t.sessions().of_user("user_9"); })->size() == 1u);
    }
}

BOOST_AUTO_TEST_CASE(a_store_directory_holding_garbage_does_not_open) {
    tmp_dir dir;
    std::filesystem::create_directories(dir.sub("db"));
    std::ofstream(dir.sub("db/data.mdb"), std::ios::binary) << std::string(8192, 'Z');
    lmdb::options o;
    o.dir = dir.sub("db");
    o.map_size = 1 << 20;
    auto r = lmdb::db::open(o);
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error() == make_error_code(errc::corrupted));
}
#endif

BOOST_FIXTURE_TEST_CASE(seed_loads_in_batches_and_indexes_everything, store_fixture) {
    std::vector<user_record> users;
    std::vector<session_record> sessions;
    std::vector<client_record> clients;
    for (int i = 0; i < 2500; ++i) {
        users.push_back(make_user(padded("user_", i, 5), "seed" + std::to_string(i) + "@example.com", {}, i));
    }
    for (int i = 0; i < 3000; ++i) {
        sessions.push_back(
            make_session(padded("sess_", i, 5), "client_" + std::to_string(i % 100), users[i % 2500].id, "active"));
    }
    for (int i = 0; i < 100; ++i) {
        client_record c;
        c.id = "client_" + std::to_string(i);
        clients.push_back(c);
    }
    BOOST_TEST_REQUIRE(seed(store, users, sessions, clients, 1000).has_value());
    BOOST_TEST(store.with_read([&](read_txn& t) { return t.users().count({}); }).value() == 2500u);
    BOOST_TEST(store.with_read([&](read_txn& t) { return t.users().id_by_email("seed1234@example.com"); })->value() ==
               "user_01234");
    BOOST_TEST(store.with_read([&](read_txn& t) { return t.sessions().of_user("user_00007"); })->size() == 2u);
    std::size_t total = 0;
    BOOST_TEST(store.with_read([&](read_txn& t) { return t.clients().list(1, 0, &total); }).has_value());
    BOOST_TEST(total == 100u);
    // A batch that fails rolls back alone: earlier batches stay.
    std::vector<user_record> more;
    for (int i = 0; i < 1500; ++i)
        more.push_back(make_user("user_more_" + std::to_string(i), "m" + std::to_string(i) + "@x.io"));
    more[1200].identifications[0].value = "seed0@example.com";  // taken: fails the second batch
    auto r = seed(store, more, {}, {}, 1000);
    BOOST_TEST(r.error() == key_exists);
    BOOST_TEST(store.with_read([&](read_txn& t) { return t.users().count({}); }).value() == 3500u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(store_jobs)

job_record job_at(std::string id, std::int64_t due, std::string state = "pending") {
    job_record j;
    j.id = std::move(id);
    j.kind = "webhook";
    j.payload = "{}";
    j.next_attempt_at = due;
    j.state = std::move(state);
    return j;
}

BOOST_FIXTURE_TEST_CASE(jobs_are_due_in_time_order_and_dead_ones_never, store_fixture) {
    BOOST_TEST_REQUIRE(write([](write_txn& w) -> result<void> {
                           for (auto const& j : {job_at("job_c", 300), job_at("job_a", 200), job_at("job_b", 200),
                                                 job_at("job_d", 100, "dead")})
                               if (auto r = w.jobs().put(j, true); !r) return r;
                           return {};
                       }).has_value());
    BOOST_TEST(write([](write_txn& w) { return w.jobs().put(job_at("job_a", 1), true); }).error() == key_exists);
    BOOST_TEST(write([](write_txn& w) { return w.jobs().put(job_at("", 1), true); }).error() ==
               make_error_code(errc::invalid_key));
    auto due = read([](read_txn& t) { return t.jobs().due(250, 10); });
    BOOST_TEST_REQUIRE(due.has_value());
    BOOST_TEST_REQUIRE(due->size() == 2u);  // job_d is dead; job_c is not due yet
    BOOST_TEST((*due)[0].id == "job_a");    // equal times: id order
    BOOST_TEST((*due)[1].id == "job_b");
    BOOST_TEST(read([](read_txn& t) { return t.jobs().due(1000, 1); })->size() == 1u);
    BOOST_TEST(**read([](read_txn& t) { return t.jobs().next_due(); }) == 200);
    auto c = read([](read_txn& t) { return t.jobs().counts(); });
    BOOST_TEST(c->pending == 3u);
    BOOST_TEST(c->dead == 1u);

    // A replaced job moves in the due order with its new time; a dead one leaves it; a removal empties it.
    BOOST_TEST_REQUIRE(write([](write_txn& w) -> result<void> {
                           if (auto r = w.jobs().put(job_at("job_a", 500), false); !r) return r;
                           if (auto r = w.jobs().put(job_at("job_b", 200, "dead"), false); !r) return r;
                           return w.jobs().remove("job_c");
                       }).has_value());
    BOOST_TEST(**read([](read_txn& t) { return t.jobs().next_due(); }) == 500);
    BOOST_TEST(read([](read_txn& t) { return t.jobs().due(499, 10); })->empty());
    c = read([](read_txn& t) { return t.jobs().counts(); });
    BOOST_TEST(c->pending == 1u);
    BOOST_TEST(c->dead == 2u);
    auto all = read([](read_txn& t) { return t.jobs().list(10); });
    BOOST_TEST_REQUIRE(all->size() == 3u);
    BOOST_TEST((*all)[0].id == "job_a");  // id order
    BOOST_TEST(write([](write_txn& w) { return w.jobs().remove("job_missing"); }).has_value());
    BOOST_TEST_REQUIRE(write([](write_txn& w) -> result<void> {
                           for (auto const* id : {"job_a", "job_b", "job_d"})
                               if (auto r = w.jobs().remove(id); !r) return r;
                           return {};
                       }).has_value());
    BOOST_TEST(!read([](read_txn& t) { return t.jobs().next_due(); })->has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(store_waitlist)

waitlist_entry_record entry(std::string id, std::string email, std::string status, std::int64_t invited_at = 0) {
    waitlist_entry_record e;
    e.id = std::move(id);
    e.email_address = std::move(email);
    e.status = std::move(status);
    e.invited_at = invited_at;
    return e;
}

BOOST_FIXTURE_TEST_CASE(waitlist_entries_are_unique_per_address_and_list_alike, store_fixture) {
    BOOST_TEST_REQUIRE(write([](write_txn& w) -> result<void> {
                           for (auto const& e :
                                {entry("wle_1", "carol@x.io", "pending"), entry("wle_2", "alice@x.io", "invited", 20),
                                 entry("wle_3", "bob@x.io", "invited", 10)})
                               if (auto r = w.waitlist().put(e, true); !r) return r;
                           return {};
                       }).has_value());
    // One entry per address, one record per id.
    BOOST_TEST(write([](write_txn& w) {
                   return w.waitlist().put(entry("wle_4", "bob@x.io", "pending"), true);
               }).error() == key_exists);
    BOOST_TEST(write([](write_txn& w) {
                   return w.waitlist().put(entry("wle_1", "dan@x.io", "pending"), true);
               }).error() == key_exists);
    BOOST_TEST(read([](read_txn& t) { return t.waitlist().by_email("dan@x.io"); })->has_value() == false);
    BOOST_TEST((*read([](read_txn& t) { return t.waitlist().by_email("bob@x.io"); }))->id == "wle_3");
    BOOST_TEST(*read([](read_txn& t) { return t.waitlist().count(); }) == 3u);

    auto ids_of = [](std::vector<waitlist_entry_record> const& v) {
        ids out;
        for (auto const& e : v) out.push_back(e.id);
        return out;
    };
    std::size_t total = 0;
    waitlist_filter f;  // newest first
    BOOST_TEST(
        (ids_of(*read([&](read_txn& t) { return t.waitlist().list(f, &total); })) == ids{"wle_3", "wle_2", "wle_1"}));
    BOOST_TEST(total == 3u);
    f.order_by = "+email_address";
    f.limit = 2;
    BOOST_TEST((ids_of(*read([&](read_txn& t) { return t.waitlist().list(f, &total); })) == ids{"wle_2", "wle_3"}));
    f.offset = 2;
    BOOST_TEST((ids_of(*read([&](read_txn& t) { return t.waitlist().list(f, &total); })) == ids{"wle_1"}));
    waitlist_filter g;
    g.status = "invited";
    g.order_by = "+invited_at";
    BOOST_TEST((ids_of(*read([&](read_txn& t) { return t.waitlist().list(g, &total); })) == ids{"wle_3", "wle_2"}));
    BOOST_TEST(total == 2u);
    g = {};
    g.query = "ALI";
    BOOST_TEST((ids_of(*read([&](read_txn& t) { return t.waitlist().list(g, &total); })) == ids{"wle_2"}));

    // An update keeps the address; a removal frees it.
    auto e = entry("wle_3", "bob@x.io", "completed");
    BOOST_TEST_REQUIRE(write([&](write_txn& w) { return w.waitlist().put(e, false); }).has_value());
    BOOST_TEST((*read([](read_txn& t) { return t.waitlist().get("wle_3"); }))->status == "completed");
    BOOST_TEST_REQUIRE(write([&](write_txn& w) { return w.waitlist().remove(e); }).has_value());
    BOOST_TEST(!read([](read_txn& t) { return t.waitlist().by_email("bob@x.io"); })->has_value());
    BOOST_TEST(
        write([](write_txn& w) { return w.waitlist().put(entry("wle_5", "bob@x.io", "pending"), true); }).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

// ---- organizations (issue 13) ----
BOOST_AUTO_TEST_SUITE(store_organizations)

organization_record org(std::string id, std::string slug) {
    organization_record o;
    o.id = std::move(id);
    o.name = "Org " + o.id;
    o.slug = std::move(slug);
    return o;
}

org_membership_record member(std::string org_id, std::string user_id, std::string role) {
    org_membership_record m;
    m.id = "orgmem_" + org_id + user_id;
    m.organization_id = std::move(org_id);
    m.user_id = std::move(user_id);
    m.role = std::move(role);
    return m;
}

org_invitation_record invitation(std::string id, std::string org_id, std::string email, std::string digest) {
    org_invitation_record i;
    i.id = std::move(id);
    i.organization_id = std::move(org_id);
    i.email_address = std::move(email);
    i.status = "pending";
    i.ticket_digest = std::move(digest);
    return i;
}

BOOST_FIXTURE_TEST_CASE(organizations_have_unique_slugs_and_list_in_id_order, store_fixture) {
    BOOST_TEST_REQUIRE(write([](write_txn& w) -> result<void> {
                           if (auto r = w.organizations().put(org("org_2", "beta"), true); !r) return r;
                           return w.organizations().put(org("org_1", "acme"), true);
                       }).has_value());
    // A taken slug or id is key_exists, and nothing of that write lands.
    auto dup = write([](write_txn& w) { return w.organizations().put(org("org_3", "acme"), true); });
    BOOST_TEST((!dup && dup.error() == make_error_code(errc::key_exists)));
    BOOST_TEST(!read([](read_txn& t) { return t.organizations().get("org_3"); })->has_value());
    auto again = write([](write_txn& w) { return w.organizations().put(org("org_1", "other"), true); });
    BOOST_TEST((!again && again.error() == make_error_code(errc::key_exists)));
    BOOST_TEST((*read([](read_txn& t) { return t.organizations().by_slug("acme"); }))->id == "org_1");
    auto list = *read([](read_txn& t) { return t.organizations().list(); });
    BOOST_TEST_REQUIRE(list.size() == 2u);
    BOOST_TEST(list[0].id == "org_1");
    // A slug change moves the index: the old slug is free, a taken one is refused.
    BOOST_TEST_REQUIRE(
        write([](write_txn& w) { return w.organizations().put(org("org_1", "acme-2"), false); }).has_value());
    BOOST_TEST(!read([](read_txn& t) { return t.organizations().by_slug("acme"); })->has_value());
    BOOST_TEST((*read([](read_txn& t) { return t.organizations().by_slug("acme-2"); }))->id == "org_1");
    auto taken = write([](write_txn& w) { return w.organizations().put(org("org_1", "beta"), false); });
    BOOST_TEST((!taken && taken.error() == make_error_code(errc::key_exists)));
    auto bad = write([](write_txn& w) { return w.organizations().put(org("", "x"), true); });
    BOOST_TEST((!bad && bad.error() == make_error_code(errc::invalid_key)));
    BOOST_TEST(!read([](read_txn& t) { return t.organizations().get(""); })->has_value());
}

BOOST_FIXTURE_TEST_CASE(memberships_and_invitations_are_indexed_and_go_with_their_organization, store_fixture) {
    BOOST_TEST_REQUIRE(
        write([](write_txn& w) -> result<void> {
            auto& o = w.organizations();
            for (auto const& x : {org("org_1", "a"), org("org_2", "b")})
                if (auto r = o.put(x, true); !r) return r;
            for (auto const& m : {member("org_1", "user_a", "org:admin"), member("org_1", "user_b", "org:member"),
                                  member("org_2", "user_a", "org:member")})
                if (auto r = o.put_membership(m); !r) return r;
            for (auto const& i :
                 {invitation("orginv_1", "org_1", "c@x.io", "d1"), invitation("orginv_2", "org_2", "c@x.io", "d2")})
                if (auto r = o.put_invitation(i); !r) return r;
            return {};
        }).has_value());
    BOOST_TEST(read([](read_txn& t) { return t.organizations().memberships_of_org("org_1"); })->size() == 2u);
    BOOST_TEST(*read([](read_txn& t) { return t.organizations().members_count("org_1"); }) == 2u);
    auto of_a = *read([](read_txn& t) { return t.organizations().memberships_of_user("user_a"); });
    BOOST_TEST_REQUIRE(of_a.size() == 2u);
    BOOST_TEST(of_a[0].organization_id == "org_1");
    BOOST_TEST((*read([](read_txn& t) { return t.organizations().membership("org_1", "user_b"); }))->role ==
               "org:member");
    BOOST_TEST(read([](read_txn& t) { return t.organizations().invitations_to("c@x.io"); })->size() == 2u);
    BOOST_TEST((*read([](read_txn& t) { return t.organizations().invitation_by_ticket("d2"); }))->id == "orginv_2");
    // A new ticket replaces the old one's index entry.
    BOOST_TEST_REQUIRE(write([](write_txn& w) {
                           return w.organizations().put_invitation(invitation("orginv_2", "org_2", "c@x.io", "d3"));
                       }).has_value());
    BOOST_TEST(!read([](read_txn& t) { return t.organizations().invitation_by_ticket("d2"); })->has_value());
    BOOST_TEST(read([](read_txn& t) { return t.organizations().invitation_by_ticket("d3"); })->has_value());

    // Removing org_1 takes its memberships and invitations (and their indexes) in the same txn.
    BOOST_TEST_REQUIRE(write([](write_txn& w) { return w.organizations().remove("org_1"); }).has_value());
    BOOST_TEST(read([](read_txn& t) { return t.organizations().memberships_of_org("org_1"); })->empty());
    BOOST_TEST(read([](read_txn& t) { return t.organizations().memberships_of_user("user_a"); })->size() == 1u);
    BOOST_TEST(read([](read_txn& t) { return t.organizations().memberships_of_user("user_b"); })->empty());
    BOOST_TEST(read([](read_txn& t) { return t.organizations().invitations_to("c@x.io"); })->size() == 1u);
    BOOST_TEST(!read([](read_txn& t) { return t.organizations().invitation_by_ticket("d1"); })->has_value());
    BOOST_TEST(!read([](read_txn& t) { return t.organizations().by_slug("a"); })->has_value());
    // A deleted user's memberships go.
    BOOST_TEST_REQUIRE(
        write([](write_txn& w) { return w.organizations().remove_user_memberships("user_a"); }).has_value());
    BOOST_TEST(read([](read_txn& t) { return t.organizations().memberships_of_org("org_2"); })->empty());
    // Removing the invitation and a missing membership.
    BOOST_TEST_REQUIRE(write([](write_txn& w) -> result<void> {
                           if (auto r = w.organizations().remove_invitation("orginv_2"); !r) return r;
                           return w.organizations().remove_membership("org_2", "user_zz");
                       }).has_value());
    BOOST_TEST(read([](read_txn& t) { return t.organizations().invitations_of_org("org_2"); })->empty());
    BOOST_TEST(!read([](read_txn& t) { return t.organizations().invitation_by_ticket("d3"); })->has_value());
}

BOOST_FIXTURE_TEST_CASE(domains_and_membership_requests_are_indexed_and_go_with_their_organization, store_fixture) {
    auto dom = [](std::string id, std::string org_id, std::string name) {
        org_domain_record d;
        d.id = std::move(id);
        d.organization_id = std::move(org_id);
        d.name = std::move(name);
        return d;
    };
    auto req = [](std::string id, std::string org_id, std::string user_id) {
        org_membership_request_record q;
        q.id = std::move(id);
        q.organization_id = std::move(org_id);
        q.user_id = std::move(user_id);
        q.status = "pending";
        return q;
    };
    BOOST_TEST_REQUIRE(
        write([&](write_txn& w) -> result<void> {
            auto& o = w.organizations();
            for (auto const& x : {org("org_1", "a"), org("org_2", "b")})
                if (auto r = o.put(x, true); !r) return r;
            for (auto const& d :
                 {dom("orgdmn_1", "org_1", "x.io"), dom("orgdmn_2", "org_1", "y.io"), dom("orgdmn_3", "org_2", "x.io")})
                if (auto r = o.put_domain(d); !r) return r;
            for (auto const& q : {req("orgmemreq_1", "org_1", "user_a"), req("orgmemreq_2", "org_2", "user_a"),
                                  req("orgmemreq_3", "org_2", "user_b")})
                if (auto r = o.put_membership_request(q); !r) return r;
            return {};
        }).has_value());
    BOOST_TEST(read([](read_txn& t) { return t.organizations().domains_of_org("org_1"); })->size() == 2u);
    auto named = *read([](read_txn& t) { return t.organizations().domains_named("x.io"); });
    BOOST_TEST_REQUIRE(named.size() == 2u);
    BOOST_TEST(named[0].id == "orgdmn_1");
    BOOST_TEST(read([](read_txn& t) { return t.organizations().membership_requests_of_user("user_a"); })->size() == 2u);
    BOOST_TEST(read([](read_txn& t) { return t.organizations().membership_requests_of_org("org_2"); })->size() == 2u);
    // A domain keeps its name and organization.
    auto renamed = write([&](write_txn& w) { return w.organizations().put_domain(dom("orgdmn_1", "org_1", "z.io")); });
    BOOST_TEST((!renamed && renamed.error() == make_error_code(errc::invalid_key)));

    // Removing org_1 takes its domains and requests (and their indexes) in the same txn.
    BOOST_TEST_REQUIRE(write([](write_txn& w) { return w.organizations().remove("org_1"); }).has_value());
    BOOST_TEST(!read([](read_txn& t) { return t.organizations().domain("orgdmn_1"); })->has_value());
    BOOST_TEST(read([](read_txn& t) { return t.organizations().domains_named("x.io"); })->size() == 1u);
    BOOST_TEST(read([](read_txn& t) { return t.organizations().domains_named("y.io"); })->empty());
    BOOST_TEST(read([](read_txn& t) { return t.organizations().membership_requests_of_user("user_a"); })->size() == 1u);
    // A deleted user's requests go; removing a domain drops its name index.
    BOOST_TEST_REQUIRE(write([](write_txn& w) -> result<void> {
                           if (auto r = w.organizations().remove_user_memberships("user_a"); !r) return r;
                           return w.organizations().remove_domain("orgdmn_3");
                       }).has_value());
    BOOST_TEST(!read([](read_txn& t) { return t.organizations().membership_request("orgmemreq_2"); })->has_value());
    BOOST_TEST(read([](read_txn& t) { return t.organizations().membership_requests_of_org("org_2"); })->size() == 1u);
    BOOST_TEST(read([](read_txn& t) { return t.organizations().domains_named("x.io"); })->empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(store_images)

// Uploaded images (issue 14): found by id; the bytes (binary, megabytes) come back exactly; an aborted write
// stores nothing; removing a missing image is not an error.
BOOST_FIXTURE_TEST_CASE(images_round_trip_large_binary_bytes, store_fixture) {
    auto img = filled<image_record>();
    img.id = "img_1";
    img.bytes.assign(3u << 20, '\0');
    for (std::size_t i = 0; i < img.bytes.size(); i += 7) img.bytes[i] = static_cast<char>(i % 251);
    BOOST_TEST_REQUIRE(write([&](write_txn& w) { return w.images().put(img); }).has_value());
    auto got = read([&](read_txn& t) { return t.images().get("img_1"); });
    BOOST_TEST_REQUIRE(got->has_value());
    BOOST_TEST(records_equal(got->value(), img));
    BOOST_TEST(got->value().bytes.size() == img.bytes.size());

    auto other = img;
    other.id = "img_2";
    auto aborted = write([&](write_txn& w) -> result<void> {
        if (auto r = w.images().put(other); !r) return r;
        return make_error_code(errc::aborted);
    });
    BOOST_TEST(!aborted.has_value());
    BOOST_TEST(!read([&](read_txn& t) { return t.images().get("img_2"); })->has_value());

    BOOST_TEST_REQUIRE(write([&](write_txn& w) -> result<void> {
                           if (auto r = w.images().remove("img_1"); !r) return r;
                           return w.images().remove("img_missing");
                       }).has_value());
    BOOST_TEST(!read([&](read_txn& t) { return t.images().get("img_1"); })->has_value());
}

BOOST_AUTO_TEST_SUITE_END()

// ---- tickets (issue 14) ----
BOOST_AUTO_TEST_SUITE(store_tickets)

ticket_record ticket(std::string id, std::string kind, std::string email = {}) {
    ticket_record t;
    t.id = std::move(id);
    t.kind = std::move(kind);
    t.status = "pending";
    t.digest = "d-" + t.id;
    t.email_address = std::move(email);
    return t;
}

BOOST_FIXTURE_TEST_CASE(tickets_are_listed_by_kind_and_invitations_by_address, store_fixture) {
    BOOST_TEST_REQUIRE(write([](write_txn& w) -> result<void> {
                           for (auto const& t :
                                {ticket("inv_2", "invitation", "a@x.io"), ticket("inv_1", "invitation", "a@x.io"),
                                 ticket("inv_3", "invitation", "b@x.io"), ticket("sit_1", "sign_in_token"),
                                 ticket("act_1", "actor_token")})
                               if (auto r = w.tickets().put(t); !r) return r;
                           return {};
                       }).has_value());
    auto inv = *read([](read_txn& t) { return t.tickets().list("invitation"); });
    BOOST_TEST_REQUIRE(inv.size() == 3u);
    BOOST_TEST(inv[0].id == "inv_1");  // id order: ids are time-ordered
    BOOST_TEST(read([](read_txn& t) { return t.tickets().list("sign_in_token"); })->size() == 1u);
    BOOST_TEST(read([](read_txn& t) { return t.tickets().invitations_to("a@x.io"); })->size() == 2u);
    BOOST_TEST((*read([](read_txn& t) { return t.tickets().get("act_1"); }))->digest == "d-act_1");
    BOOST_TEST(!read([](read_txn& t) { return t.tickets().get("nope"); })->has_value());
    BOOST_TEST(!read([](read_txn& t) { return t.tickets().get(""); })->has_value());
    // A status change replaces the record in place; remove takes its index entries along.
    BOOST_TEST_REQUIRE(write([](write_txn& w) {
                           auto t = ticket("inv_1", "invitation", "a@x.io");
                           t.status = "accepted";
                           return w.tickets().put(t);
                       }).has_value());
    BOOST_TEST((*read([](read_txn& t) { return t.tickets().get("inv_1"); }))->status == "accepted");
    BOOST_TEST(read([](read_txn& t) { return t.tickets().list("invitation"); })->size() == 3u);
    BOOST_TEST_REQUIRE(write([](write_txn& w) -> result<void> {
                           if (auto r = w.tickets().remove("inv_2"); !r) return r;
                           return w.tickets().remove("inv_missing");
                       }).has_value());
    BOOST_TEST(read([](read_txn& t) { return t.tickets().invitations_to("a@x.io"); })->size() == 1u);
    BOOST_TEST(read([](read_txn& t) { return t.tickets().list("invitation"); })->size() == 2u);
    auto bad = write([](write_txn& w) { return w.tickets().put(ticket("", "invitation")); });
    BOOST_TEST((!bad && bad.error() == make_error_code(errc::invalid_key)));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(store_db_oauth)

BOOST_FIXTURE_TEST_CASE(oauth_apps_codes_and_token_families, store_fixture) {
    oauth_app_record a;
    a.id = "oa_1";
    a.client_id = "cid_1";
    a.name = "App";
    a.redirect_uris = {"https://app.example/cb", "myapp://cb"};
    BOOST_TEST_REQUIRE(write([&](write_txn& w) { return w.oauth().put_app(a, true); }).has_value());
    // The client_id is unique; an insert never overwrites.
    auto b = a;
    b.id = "oa_2";
    BOOST_TEST(write([&](write_txn& w) { return w.oauth().put_app(b, true); }).error() == key_exists);
    auto got = *read([](read_txn& t) { return t.oauth().app_by_client_id("cid_1"); });
    BOOST_TEST_REQUIRE(got.has_value());
    BOOST_TEST(got->redirect_uris.size() == 2u);
    a.name = "Renamed";
    BOOST_TEST_REQUIRE(write([&](write_txn& w) { return w.oauth().put_app(a, false); }).has_value());
    BOOST_TEST((*read([](read_txn& t) { return t.oauth().app("oa_1"); }))->name == "Renamed");
    BOOST_TEST(read([](read_txn& t) { return t.oauth().apps(); })->size() == 1u);

    oauth_code_record c;
    c.digest = "cd1";
    c.client_id = "cid_1";
    c.user_id = "user_1";
    BOOST_TEST_REQUIRE(write([&](write_txn& w) { return w.oauth().put_code(c); }).has_value());
    BOOST_TEST((*read([](read_txn& t) { return t.oauth().code("cd1"); }))->user_id == "user_1");

    for (auto const* d : {"t1", "t2"}) {
        oauth_token_record t;
        t.digest = d;
        t.kind = "refresh";
        t.family_id = "fam_1";
        BOOST_TEST_REQUIRE(write([&](write_txn& w) { return w.oauth().put_token(t); }).has_value());
    }
    oauth_token_record other;
    other.digest = "t3";
    other.family_id = "fam_2";
    BOOST_TEST_REQUIRE(write([&](write_txn& w) { return w.oauth().put_token(other); }).has_value());
    auto revoked = write([](write_txn& w) { return w.oauth().revoke_family("fam_1", "reuse"); });
    BOOST_TEST_REQUIRE(revoked.has_value());
    BOOST_TEST(*revoked == 2u);
    BOOST_TEST((*read([](read_txn& t) { return t.oauth().token("t1"); }))->revoked);
    BOOST_TEST((*read([](read_txn& t) { return t.oauth().token("t2"); }))->revocation_reason == "reuse");
    BOOST_TEST(!(*read([](read_txn& t) { return t.oauth().token("t3"); }))->revoked);

    BOOST_TEST_REQUIRE(write([](write_txn& w) { return w.oauth().remove_app("oa_1"); }).has_value());
    BOOST_TEST(!read([](read_txn& t) { return t.oauth().app_by_client_id("cid_1"); })->has_value());
    BOOST_TEST(read([](read_txn& t) { return t.oauth().apps(); })->empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(store_db_console)

BOOST_FIXTURE_TEST_CASE(user_search_index_finds_by_prefix, users_fixture) {
    auto search = [&](std::string_view q, std::size_t limit = 10) {
        auto r = read([&](read_txn& t) { return t.users().search(q, limit); });
        BOOST_TEST_REQUIRE(r.has_value());
        auto v = *r;
        std::sort(v.begin(), v.end());
        return v;
    };
    using ids = std::vector<std::string>;
    BOOST_TEST_REQUIRE(insert(alice()).has_value());
    user_record b = make_user("user_bob", "bob@other.example", "Bob");
    b.first_name = "Bob";
    b.last_name = "Builder";
    b.external_id = "EXT-9";
    BOOST_TEST_REQUIRE(insert(b).has_value());
    BOOST_TEST(search("ali") == ids{"user_alice"});                  // email, username, first name
    BOOST_TEST(search("ALICE@EX") == ids{"user_alice"});             // case-insensitive, email
    BOOST_TEST(search("other.ex") == ids{"user_bob"});               // email domain
    BOOST_TEST(search("bob b") == ids{"user_bob"});                  // full name
    BOOST_TEST(search("builder") == ids{"user_bob"});                // last name
    BOOST_TEST(search("ext-9") == ids{"user_bob"});                  // external id
    BOOST_TEST(search("user_") == (ids{"user_alice", "user_bob"}));  // ids
    BOOST_TEST(search("user_", 1).size() == 1u);                     // limit: distinct users
    BOOST_TEST(search("+1555") == ids{"user_alice"});                // phone, with and without '+'
    BOOST_TEST(search("1555") == ids{"user_alice"});
    BOOST_TEST(search("lice").empty());  // a prefix, not a substring
    BOOST_TEST(search("").empty());
    // Updates move the keys; removal drops them.
    user_record const before = b;
    b.first_name = "Robert";
    BOOST_TEST_REQUIRE(update(b, before).has_value());
    BOOST_TEST(search("bob b").empty());
    BOOST_TEST(search("robert") == ids{"user_bob"});
    BOOST_TEST_REQUIRE(write([&](write_txn& w) { return w.users().remove(b); }).has_value());
    BOOST_TEST(search("robert").empty());
    BOOST_TEST(search("user_") == ids{"user_alice"});
}

BOOST_FIXTURE_TEST_CASE(console_operators_links_sessions_audit_and_counters, store_fixture) {
    operator_record o;
    o.id = "op_1";
    o.name = "alice";
    o.role = "admin";
    BOOST_TEST_REQUIRE(write([&](write_txn& w) { return w.console().put_operator(o, true); }).has_value());
    auto dup = o;
    dup.id = "op_2";  // the name is unique
    BOOST_TEST(write([&](write_txn& w) { return w.console().put_operator(dup, true); }).error() == key_exists);
    o.failed_attempts = 3;
    BOOST_TEST_REQUIRE(write([&](write_txn& w) { return w.console().put_operator(o, false); }).has_value());
    BOOST_TEST((*read([](read_txn& t) { return t.console().operator_by_name("alice"); }))->failed_attempts == 3);
    BOOST_TEST((*read([](read_txn& t) { return t.console().operator_by_id("op_1"); }))->role == "admin");
    BOOST_TEST(read([](read_txn& t) { return t.console().operators(); })->size() == 1u);
    BOOST_TEST(!read([](read_txn& t) { return t.console().operator_by_name("bob"); })->has_value());

    console_link_record l;
    l.digest = "ld1";
    l.operator_id = "op_1";
    l.expires_at = 10;
    BOOST_TEST_REQUIRE(write([&](write_txn& w) { return w.console().put_link(l); }).has_value());
    BOOST_TEST((*read([](read_txn& t) { return t.console().link("ld1"); }))->expires_at == 10);
    console_session_record s;
    s.digest = "sd1";
    s.id = "cs_1";
    s.operator_id = "op_1";
    BOOST_TEST_REQUIRE(write([&](write_txn& w) { return w.console().put_session(s); }).has_value());
    BOOST_TEST((*read([](read_txn& t) { return t.console().session("sd1"); }))->id == "cs_1");

    // The audit log reads newest first, with paging.
    for (int i = 1; i <= 3; ++i) {
        audit_record a;
        a.id = "aud_" + std::to_string(i);
        a.at = 1000 + i;
        a.action = "act" + std::to_string(i);
        BOOST_TEST_REQUIRE(write([&](write_txn& w) { return w.console().put_audit(a); }).has_value());
    }
    auto log = *read([](read_txn& t) { return t.console().audit(2); });
    BOOST_TEST_REQUIRE(log.size() == 2u);
    BOOST_TEST(log[0].id == "aud_3");
    BOOST_TEST(log[1].id == "aud_2");
    auto older = *read([](read_txn& t) { return t.console().audit(10, "aud_2"); });
    BOOST_TEST_REQUIRE(older.size() == 1u);
    BOOST_TEST(older[0].id == "aud_1");

    // Counters: one entry per bucket, read by range.
    BOOST_TEST_REQUIRE(write([](write_txn& w) { return w.console().bump("sign_ins", 60); }).has_value());
    BOOST_TEST_REQUIRE(write([](write_txn& w) { return w.console().bump("sign_ins", 60, 2); }).has_value());
    BOOST_TEST_REQUIRE(write([](write_txn& w) { return w.console().bump("sign_ins", 120); }).has_value());
    BOOST_TEST_REQUIRE(write([](write_txn& w) { return w.console().bump("sign_ups", 60); }).has_value());
    auto c = *read([](read_txn& t) { return t.console().counters("sign_ins", 0, 120); });
    BOOST_TEST_REQUIRE(c.size() == 1u);
    BOOST_TEST(c[0].first == 60);
    BOOST_TEST(c[0].second == 3);
    BOOST_TEST(read([](read_txn& t) { return t.console().counters("sign_ins", 0, 1000); })->size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END()  // LATCHKEY_STORE_SUITE
