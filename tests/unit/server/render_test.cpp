// The fast rendering path of GET /v1/client: json_write emits exactly Boost.JSON's bytes, views render the same
// with and without an arena, and the user-fragment cache tells every rendering-relevant change of a user apart
// while staying within its bound under concurrent use.
#include "server/api/app.hpp"
#include "server/api/json_write.hpp"
#include "server/api/views.hpp"
#include "tests/common/sample_records.hpp"

#include <boost/describe/members.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/mp11/algorithm.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

using namespace latchkey;
using namespace latchkey::server::api;
namespace json = boost::json;

namespace {

std::string written(std::string_view s) {
    std::string out;
    json_write::string(out, s);
    return out;
}

store::user_record sample_user(std::string id) {
    store::user_record u;
    u.id = std::move(id);
    u.first_name = "Ada";
    u.last_name = "Lovelace";
    u.username = "ada";
    u.password_digest = "$argon2id$v=19$m=19456,t=2,p=1$x$y";
    u.public_metadata = R"({"plan":"pro"})";
    u.private_metadata = R"({"secret":1})";
    u.created_at = u.updated_at = 1'700'000'000'000;
    auto e = latchkey::test::identification("email_address", "idn_1", "ada@example.com", "verified");
    e.verification.strategy = "email_code";
    u.primary_email_address_id = e.id;
    u.identifications.push_back(e);
    store::external_account_record x;  // every vector of records holds one, so each of its fields is varied
    x.id = "eac_1";
    x.provider = "oauth_custom_acme";
    x.provider_user_id = "acme-1";
    u.external_accounts.push_back(x);
    store::enterprise_account_record ea;
    ea.id = "eaa_1";
    ea.connection_id = "samlc_1";
    ea.email_address = "ada@example.com";
    u.enterprise_accounts.push_back(ea);
    store::passkey_record pk;
    pk.id = "idn_pk1";
    pk.name = "Passkey";
    pk.credential_id = "cred";
    pk.verification.status = "verified";
    u.passkeys.push_back(pk);
    return u;
}

/// A different value of the same type (strings grow, numbers move, flags flip, vectors gain an element).
template <class T>
void change(T& v) {
    if constexpr (std::is_same_v<T, bool>)
        v = !v;
    else if constexpr (std::is_arithmetic_v<T>)
        v = static_cast<T>(v + 1);
    else if constexpr (std::is_same_v<T, std::string>)
        v += "x";
    else
        v.emplace_back();
}

/// Calls f(name, mutated copy) once per described member of T, recursing into described members and into
/// the first element of vectors of described records, so every leaf field of `base` is changed once.
template <class T, class Root, class Get, class F>
void each_leaf_change(Root const& base, Get get, std::string const& prefix, F const& f) {
    boost::mp11::mp_for_each<boost::describe::describe_members<T, boost::describe::mod_any_access>>([&](auto d) {
        using M = std::remove_cvref_t<decltype(std::declval<T&>().*d.pointer)>;
        std::string const name = prefix + d.name;
        auto member = [get, p = d.pointer](Root& r) -> M& { return get(r).*p; };
        if constexpr (boost::describe::has_describe_members<M>::value) {
            each_leaf_change<M>(base, member, name + ".", f);
        } else {
            Root copy = base;
            change(member(copy));
            f(name, copy);
            if constexpr (requires { typename M::value_type; } && !std::is_same_v<M, std::string>) {
                using E = typename M::value_type;
                if constexpr (boost::describe::has_describe_members<E>::value)
                    each_leaf_change<E>(
                        base, [member](Root& r) -> E& { return member(r).front(); }, name + "[0].", f);
            }
        }
    });
}

}  // namespace

BOOST_AUTO_TEST_SUITE(render)

BOOST_AUTO_TEST_CASE(json_write_strings_match_boost_json_for_every_byte) {
    for (int c = 0; c < 256; ++c) {
        std::string s = "a";
        s.push_back(static_cast<char>(c));
        s += "b";
        BOOST_TEST(written(s) == json::serialize(json::string(s)), "byte " << c);
    }
    BOOST_TEST(written("") == "\"\"");
    // Plain text is scanned a word at a time: put each kind of special byte at every offset of strings
    // around the word size, so every position in and across words is covered.
    for (std::size_t len = 1; len <= 40; ++len)
        for (std::size_t at = 0; at < len; ++at)
            for (char special : {'"', '\\', '\n', '\x01', '\x1f'}) {
                std::string s(len, 'k');
                s[at] = special;
                if (len > 2) s[len - 1] = '\xe9';  // a high byte must not count as special
                BOOST_TEST_REQUIRE(written(s) == json::serialize(json::string(s)));
            }
    std::mt19937 rng(42);
    for (int i = 0; i < 2000; ++i) {
        std::string s(rng() % 64, '\0');
        for (auto& ch : s) ch = static_cast<char>(rng() % 4 == 0 ? rng() % 0x40 : rng() % 256);
        BOOST_TEST_REQUIRE(written(s) == json::serialize(json::string(s)));
    }
}

BOOST_AUTO_TEST_CASE(json_write_scalars_and_values_match_boost_json) {
    for (std::int64_t v : {std::int64_t{0}, std::int64_t{-1}, std::int64_t{42}, std::int64_t{1'900'000'000'000},
                           std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()}) {
        std::string out;
        json_write::integer(out, v);
        BOOST_TEST(out == json::serialize(json::value(v)));
    }
    std::string b;
    json_write::boolean(b, true);
    json_write::boolean(b, false);
    BOOST_TEST(b == "truefalse");
    std::string n;
    json_write::string_or_null(n, "");
    json_write::string_or_null(n, "x");
    BOOST_TEST(n == "null\"x\"");
    // A value larger than the serializer's chunk, appended after existing text.
    json::array big;
    for (int i = 0; i < 500; ++i) big.push_back(json::object{{"i", i}, {"s", "\"q\"\n"}, {"d", 2.5}});
    std::string out = "prefix:";
    json_write::value(out, big);
    BOOST_TEST(out == "prefix:" + json::serialize(big));
}

BOOST_AUTO_TEST_CASE(views_render_the_same_in_an_arena_and_on_the_heap) {
    auto u = sample_user("user_1");
    u.unsafe_metadata = R"({ "b" : [1, 2.5, true, null], "a": {"n": -3}})";
    u.public_metadata = "not json";
    u.identifications.push_back(latchkey::test::identification("phone_number", "idn_p", "+15555550100", "unverified"));
    for (auto who : {views::audience::frontend, views::audience::backend}) {
        views::scratch arena;
        views::lockout const lock = views::lockout_of(u, 0, 100);
        BOOST_TEST(json::serialize(views::user(u, who, lock, arena.storage())) ==
                   json::serialize(views::user(u, who, lock)));
    }
    views::scratch arena;
    BOOST_TEST(json::serialize(views::public_user_data(u, arena.storage())) ==
               json::serialize(views::public_user_data(u)));
    // The "{}" fast path and the parser agree; bad text becomes {}.
    BOOST_TEST(json::serialize(views::json_text("{}")) == "{}");
    BOOST_TEST(json::serialize(views::json_text(" {} ")) == "{}");
    BOOST_TEST(json::serialize(views::json_text("[]")) == "{}");
    BOOST_TEST(json::serialize(views::json_text("")) == "{}");
    BOOST_TEST(json::serialize(views::json_text(R"({"a":1})")) == R"({"a":1})");
}

BOOST_AUTO_TEST_CASE(fragment_cache_sees_every_user_field_that_the_frontend_renders) {
    auto const base = sample_user("user_1");
    BOOST_TEST(fragment_cache::same_rendering_inputs(base, base));
    int checked = 0;
    each_leaf_change<store::user_record>(
        base, [](store::user_record& r) -> store::user_record& { return r; }, "",
        [&](std::string const& name, store::user_record const& changed) {
            ++checked;
            bool const same = fragment_cache::same_rendering_inputs(base, changed);
            // Private metadata is never shown to the frontend; of the password and the sealed TOTP secret only
            // their presence is, of the backup codes only whether there are any.
            bool const irrelevant = name == "private_metadata" || name == "password_digest" ||
                                    (name == "totp_secret_sealed" &&
                                     base.totp_secret_sealed.empty() == changed.totp_secret_sealed.empty()) ||
                                    (name.starts_with("backup_code_digests") &&
                                     base.backup_code_digests.size() == changed.backup_code_digests.size());
            BOOST_TEST(same == irrelevant, name);
        });
    BOOST_TEST(checked > 40);  // every leaf of user_record, identification_record and verification_record
    auto no_password = base;
    no_password.password_digest.clear();
    BOOST_TEST(!fragment_cache::same_rendering_inputs(base, no_password));

    // Through the cache: a changed user misses, the same user hits, and nothing secret is kept.
    fragment_cache cache(64);
    BOOST_TEST(!cache.get(base, 0));
    auto f = cache.put(base, "fragment-1");
    BOOST_TEST(f->user.password_digest.size() == 1u);
    BOOST_TEST(f->user.private_metadata.empty());
    auto with_mfa = base;
    with_mfa.totp_secret_sealed = "sealed-secret-bytes";
    with_mfa.backup_code_digests = {"digest-1", "digest-2"};
    auto g = cache.put(with_mfa, "fragment-mfa");
    BOOST_TEST(g->user.totp_secret_sealed == "*");
    BOOST_TEST((g->user.backup_code_digests == std::vector<std::string>{"*", "*"}));
    BOOST_TEST(cache.get(with_mfa, 0)->json == "fragment-mfa");
    cache.put(base, "fragment-1");
    auto hit = cache.get(base, 0);
    BOOST_TEST_REQUIRE(hit);
    BOOST_TEST(hit->json == "fragment-1");
    auto renamed = base;
    renamed.first_name = "Augusta";
    BOOST_TEST(!cache.get(renamed, 0));
    cache.put(renamed, "fragment-2");
    BOOST_TEST(!cache.get(base, 0));
    BOOST_TEST(cache.get(renamed, 0)->json == "fragment-2");
    BOOST_TEST(cache.size() == 1u);
    cache.erase(base.id);
    BOOST_TEST(!cache.get(renamed, 0));
    BOOST_TEST(cache.size() == 0u);
}

BOOST_AUTO_TEST_CASE(fragment_cache_holds_a_rendering_only_inside_its_clock_window) {
    auto const u = sample_user("user_1");
    fragment_cache cache(64);
    cache.put(u, "countdown 5", 1000, 2000);
    BOOST_TEST(!cache.get(u, 999));
    BOOST_TEST(cache.get(u, 1000)->json == "countdown 5");
    BOOST_TEST(cache.get(u, 1999)->json == "countdown 5");
    BOOST_TEST(!cache.get(u, 2000));
}

BOOST_AUTO_TEST_CASE(lockout_counts_down_and_says_how_long_it_holds) {
    store::user_record u = sample_user("user_1");
    u.locked = false;
    u.failed_attempts = 2;
    u.lockout_expires_at = 0;
    auto open = views::lockout_of(u, 10'000, 5);
    BOOST_TEST(!open.locked);
    BOOST_TEST(!open.expires_in_seconds.has_value());
    BOOST_TEST(open.attempts_remaining == 3);
    BOOST_TEST(open.valid_from_ms == INT64_MIN);
    BOOST_TEST(open.valid_until_ms == INT64_MAX);
    // The automatic lockout: 2.5 s left reads 3 until 2 s are left, and no attempts remain.
    u.failed_attempts = 0;
    u.lockout_expires_at = 12'500;
    auto locked = views::lockout_of(u, 10'000, 5);
    BOOST_TEST(locked.locked);
    BOOST_TEST(locked.expires_in_seconds.value() == 3);
    BOOST_TEST(locked.attempts_remaining == 0);
    BOOST_TEST(locked.valid_from_ms == 9'500);
    BOOST_TEST(locked.valid_until_ms == 10'500);
    BOOST_TEST(views::lockout_of(u, 10'500, 5).expires_in_seconds.value() == 2);
    BOOST_TEST(views::lockout_of(u, 12'499, 5).expires_in_seconds.value() == 1);
    BOOST_TEST(views::lockout_of(u, 12'499, 5).valid_until_ms == 12'500);
    auto over = views::lockout_of(u, 12'500, 5);
    BOOST_TEST(!over.locked);
    BOOST_TEST(over.attempts_remaining == 5);
    BOOST_TEST(over.valid_from_ms == 12'500);
    // A BAPI lock keeps the attempts count and ends with its countdown, as Clerk's does; a lock without an end
    // holds.
    u.locked = true;
    u.failed_attempts = 1;
    BOOST_TEST(views::lockout_of(u, 10'000, 5).attempts_remaining == 4);
    BOOST_TEST(views::lockout_of(u, 10'000, 5).locked);
    auto ended = views::lockout_of(u, 20'000, 5);
    BOOST_TEST(!ended.locked);
    BOOST_TEST(!ended.expires_in_seconds.has_value());
    store::user_record forever = u;
    forever.lockout_expires_at = 0;
    auto admin = views::lockout_of(forever, 20'000, 5);
    BOOST_TEST(admin.locked);
    BOOST_TEST(!admin.expires_in_seconds.has_value());
    // Both views show it.
    auto const o = views::user(u, views::audience::backend, locked);
    BOOST_TEST(o.at("locked").as_bool());
    BOOST_TEST(o.at("lockout_expires_in_seconds").as_int64() == 3);
    BOOST_TEST(o.at("verification_attempts_remaining").as_int64() == 0);
}

BOOST_AUTO_TEST_CASE(fragment_cache_stays_bounded_and_keeps_hot_entries) {
    fragment_cache cache(160);  // 10 per shard
    auto const hot = sample_user("user_hot");
    cache.put(hot, "hot");
    for (int i = 0; i < 5000; ++i) {
        cache.put(sample_user("user_" + std::to_string(i)), "cold");
        BOOST_TEST_REQUIRE(cache.size() <= 160u);
        // A hit sets the entry's CLOCK bit: an entry used between evictions survives them.
        BOOST_TEST_REQUIRE(cache.get(hot, 0));
    }
    // Erased slots are reused.
    for (int i = 0; i < 5000; ++i) cache.erase("user_" + std::to_string(i));
    BOOST_TEST(cache.size() == 1u);
    for (int i = 0; i < 100; ++i) cache.put(sample_user("again_" + std::to_string(i)), "x");
    BOOST_TEST(cache.size() <= 160u);
}

BOOST_AUTO_TEST_CASE(fragment_cache_under_two_threads) {
    fragment_cache cache(64);
    auto worker = [&](int seed) {
        std::mt19937 rng(seed);
        for (int i = 0; i < 20000; ++i) {
            auto u = sample_user("user_" + std::to_string(rng() % 200));
            u.first_name = std::to_string(rng() % 3);
            if (auto f = cache.get(u, 0)) {
                // A hit is always the fragment rendered from exactly this user.
                BOOST_TEST_REQUIRE(f->json == u.id + "/" + u.first_name);
            } else {
                cache.put(u, u.id + "/" + u.first_name);
            }
            if (rng() % 50 == 0) cache.erase(u.id);
        }
    };
    std::thread t1(worker, 1);
    std::thread t2(worker, 2);
    t1.join();
    t2.join();
    BOOST_TEST(cache.size() <= 64u);
}

BOOST_AUTO_TEST_SUITE_END()
