// Who an email address or phone number belongs to, and what a user's lockout looks like from outside.
//
// Identifiers (issue 20 item 3): only a verified (or reserved) claim owns an address. An unverified one,
// added through /v1/me or the BAPI, never blocks another user's sign-up or BAPI create, is never a sign-in
// identifier (answered exactly like an unknown one) and never receives a code; when someone verifies the
// address, the stale unverified claims are removed from the other accounts. A verified owner is never
// displaced, whichever path tries.
//
// Lockout (issue 20 item 5): the automatic lockout after too many failed sign-ins shows in the BAPI and FAPI
// user objects (locked, a lockout_expires_in_seconds that counts down, verification_attempts_remaining), and
// the BAPI unlock ends it.
#include "tests/common/flows.hpp"
#include "tests/common/server_fixture.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>

using namespace latchkey;
using namespace latchkey::test;
using namespace std::chrono_literals;

namespace {

constexpr char const* password = "correct horse battery staple";
constexpr char const* victim_email = "victim@corp.example";
constexpr char const* victim_phone = "+14155552671";

/// Phone numbers as the only identifier, with codes and reset codes by SMS.
void phone_instance(conf::config& c) {
    c.email_address = {false, false, false, false};
    c.phone_number = {true, true, true, true};
    c.first_factors = {"password", "phone_code", "reset_password_phone_code"};
}

std::string sign_up_path(std::string const& id, std::string const& tail = {}) {
    return "/v1/client/sign_ups/" + id + tail;
}

/// A signed-in squatter (with a password) who adds `value` (email or phone) to their own account and never
/// verifies it. Returns the squatter's user id; `ident_id` receives the unverified identification's id.
std::string squat(test_server& s, http_client& c, std::string const& own_email, std::string const& kind,
                  std::string const& value, std::string* ident_id = nullptr) {
    auto who = sign_in_browser(s, c, own_email);
    auto path = kind == "email_address" ? "/v1/me/email_addresses" : "/v1/me/phone_numbers";
    auto r = c.fapi("POST", path, {{kind, value}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(response(r).at("verification").is_null());
    if (ident_id) *ident_id = str(response(r).at("id"));
    return who.user_id;
}

/// Whether the stored user holds an identification with `value`.
bool holds(test_server& s, std::string const& user_id, std::string const& value) {
    auto u = load_user(s, user_id);
    if (!u) return false;
    for (auto const& i : u->identifications)
        if (i.value == value) return true;
    return false;
}

/// The stored user's identification with `value`, which must exist.
store::identification_record ident_of(test_server& s, std::string const& user_id, std::string const& value) {
    auto u = load_user(s, user_id);
    BOOST_TEST_REQUIRE(u.has_value());
    for (auto const& i : u->identifications)
        if (i.value == value) return i;
    BOOST_FAIL("no identification " + value + " on " + user_id);
    return {};
}

/// Signs up with `kind` = `value` and a password, verifying it with the code sent to it. Returns the completing
/// reply (not checked).
http_result sign_up_verified(test_server& s, http_client& c, std::string const& kind, std::string const& value) {
    auto created = c.fapi("POST", "/v1/client/sign_ups", {{kind, value}, {"password", password}});
    BOOST_TEST_REQUIRE(created.status == 200u, created.body);
    auto id = str(response(created).at("id"));
    auto strategy = kind == "email_address" ? "email_code" : "phone_code";
    auto prepared = c.fapi("POST", sign_up_path(id, "/prepare_verification"), {{"strategy", strategy}});
    BOOST_TEST_REQUIRE(prepared.status == 200u, prepared.body);
    auto code = s.last_code(value);
    BOOST_TEST_REQUIRE(code.size() == 6u);
    return c.fapi("POST", sign_up_path(id, "/attempt_verification"), {{"strategy", strategy}, {"code", code}});
}

http_result sign_in_password(http_client& c, std::string const& identifier, std::string const& pw = password) {
    return c.fapi("POST", "/v1/client/sign_ins",
                  {{"identifier", identifier}, {"strategy", "password"}, {"password", pw}});
}

/// Every message the outbox holds for `to`.
std::size_t messages_to(test_server& s, std::string const& to) {
    std::size_t n = 0;
    for (auto const& m : s.outbox())
        if (str(m.at("to")) == to) ++n;
    return n;
}

/// The error a reply carries, without the per-request trace id: two replies that must be indistinguishable
/// compare equal on this.
std::string error_shape(http_result const& r) {
    if (!r.json.is_object() || !r.json.as_object().contains("errors")) return std::to_string(r.status) + " " + r.body;
    return std::to_string(r.status) + " " + json::serialize(r.json.at("errors"));
}

/// The real owner of `value` signs up with it on a fresh browser and proves it: the sign-up completes and the
/// new user holds it verified. Returns the user's id.
std::string owner_signs_up(test_server& s, std::string const& kind, std::string const& value) {
    http_client owner(s.fapi_port());
    auto done = sign_up_verified(s, owner, kind, value);
    BOOST_TEST_REQUIRE(done.status == 200u, done.body);
    BOOST_TEST(str(response(done).at("status")) == "complete");
    auto owner_id = str(response(done).at("created_user_id"));
    BOOST_TEST(ident_of(s, owner_id, value).verification.status == "verified");
    return owner_id;
}

/// The user whose session a password sign-in by `identifier` on a fresh browser creates (it must succeed).
std::string user_signed_in_by(test_server& s, std::string const& identifier) {
    http_client again(s.fapi_port());
    auto in = sign_in_password(again, identifier);
    BOOST_TEST_REQUIRE(in.status == 200u, in.body);
    return load_session(s, str(response(in).at("created_session_id")))->user_id;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(identifiers)

// ---------------------------------------------------------------------------------------------------------
// Unverified email addresses

BOOST_AUTO_TEST_CASE(unverified_email_does_not_block_sign_up) {
    test_server s;
    http_client squatter(s.fapi_port());
    auto squatter_id = squat(s, squatter, "squatter@example.com", "email_address", victim_email);

    // The real owner signs up with the address, proves it, and gets it.
    auto owner_id = owner_signs_up(s, "email_address", victim_email);
    // The stale unverified claim is gone from the squatter's account (which keeps everything else).
    BOOST_TEST(!holds(s, squatter_id, victim_email));
    BOOST_TEST(holds(s, squatter_id, "squatter@example.com"));
    // And the address now signs the owner in.
    BOOST_TEST(user_signed_in_by(s, victim_email) == owner_id);
}

BOOST_AUTO_TEST_CASE(unverified_email_does_not_block_bapi_create) {
    test_server s;
    http_client squatter(s.fapi_port());
    auto squatter_id = squat(s, squatter, "squatter@example.com", "email_address", victim_email);
    auto b = bapi_client(s);

    // POST /v1/users: created verified (the BAPI default), so it owns the address.
    auto r = b.bapi(http::verb::post, "/v1/users",
                    json::object{{"email_address", json::array{victim_email}}, {"password", password}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    auto owner_id = str(r.json.at("id"));
    BOOST_TEST(str(r.json.at("email_addresses").at(0).at("verification").at("status")) == "verified");
    BOOST_TEST(!holds(s, squatter_id, victim_email));
    BOOST_TEST(holds(s, owner_id, victim_email));
    // Filtering users by the address finds the owner alone.
    auto found = b.bapi(http::verb::get, std::string("/v1/users?email_address=") + victim_email);
    BOOST_TEST_REQUIRE(found.json.is_array());
    BOOST_TEST_REQUIRE(found.json.as_array().size() == 1u);
    BOOST_TEST(str(found.json.as_array()[0].at("id")) == owner_id);
}

BOOST_AUTO_TEST_CASE(unverified_email_does_not_block_bapi_email_address_create) {
    test_server s;
    http_client squatter(s.fapi_port());
    auto squatter_id = squat(s, squatter, "squatter@example.com", "email_address", victim_email);
    auto b = bapi_client(s);
    auto other = create_user(b, {{"email_address", json::array{"other@example.com"}}});
    auto owner = create_user(b, {{"email_address", json::array{"owner@example.com"}}});

    // Another unverified claim may sit beside the squatter's: neither owns the address.
    auto pending =
        b.bapi(http::verb::post, "/v1/email_addresses",
               json::object{{"user_id", other.at("id")}, {"email_address", victim_email}, {"verified", false}});
    BOOST_TEST_REQUIRE(pending.status == 200u, pending.body);
    BOOST_TEST(holds(s, squatter_id, victim_email));
    // A verified one owns it: every unverified claim on other accounts goes.
    auto verified =
        b.bapi(http::verb::post, "/v1/email_addresses",
               json::object{{"user_id", owner.at("id")}, {"email_address", victim_email}, {"verified", true}});
    BOOST_TEST_REQUIRE(verified.status == 200u, verified.body);
    BOOST_TEST(str(verified.json.at("verification").at("status")) == "verified");
    BOOST_TEST(!holds(s, squatter_id, victim_email));
    BOOST_TEST(!holds(s, str(other.at("id")), victim_email));
    BOOST_TEST(holds(s, str(owner.at("id")), victim_email));
}

BOOST_AUTO_TEST_CASE(unverified_email_is_not_a_sign_in_identifier) {
    test_server s;
    http_client squatter(s.fapi_port());
    squat(s, squatter, "squatter@example.com", "email_address", victim_email);

    // The squatter's own password with the unverified address: answered exactly like an unknown address.
    http_client c(s.fapi_port());
    auto one_step = sign_in_password(c, victim_email);
    expect_error(one_step, 422, "form_identifier_not_found", "identifier");
    auto unknown = sign_in_password(c, "nobody@corp.example");
    BOOST_TEST(error_shape(one_step) == error_shape(unknown));
    // Two-step (identifier first) too.
    auto two_step = c.fapi("POST", "/v1/client/sign_ins", {{"identifier", victim_email}});
    expect_error(two_step, 422, "form_identifier_not_found", "identifier");
    BOOST_TEST(error_shape(two_step) ==
               error_shape(c.fapi("POST", "/v1/client/sign_ins", {{"identifier", "nobody@corp.example"}})));
    // The squatter's verified address still works.
    auto own = sign_in_password(c, "squatter@example.com");
    BOOST_TEST(own.status == 200u, own.body);
}

BOOST_AUTO_TEST_CASE(unverified_email_gets_no_reset_code) {
    test_server s([](conf::config& c) { c.username = {true, false, true, false}; });
    http_client squatter(s.fapi_port());
    std::string idn;
    auto squatter_id = squat(s, squatter, "squatter@example.com", "email_address", victim_email, &idn);
    edit_user(s, squatter_id, [](store::user_record& u) { u.username = "squatter"; });

    http_client c(s.fapi_port());
    // Forgot password by the unverified address: no such identifier, nothing sent.
    auto forgot = c.fapi("POST", "/v1/client/sign_ins",
                         {{"identifier", victim_email}, {"strategy", "reset_password_email_code"}});
    expect_error(forgot, 422, "form_identifier_not_found", "identifier");
    auto code = c.fapi("POST", "/v1/client/sign_ins", {{"identifier", victim_email}, {"strategy", "email_code"}});
    expect_error(code, 422, "form_identifier_not_found", "identifier");
    BOOST_TEST(messages_to(s, victim_email) == 0u);

    // By the username: the unverified address is no factor, and naming it sends nothing.
    auto si = c.fapi("POST", "/v1/client/sign_ins", {{"identifier", "squatter"}});
    BOOST_TEST_REQUIRE(si.status == 200u, si.body);
    for (auto const& f : response(si).at("supported_first_factors").as_array())
        if (auto const* id = f.as_object().if_contains("email_address_id")) BOOST_TEST(str(*id) != idn);
    auto id = str(response(si).at("id"));
    auto prep = c.fapi("POST", "/v1/client/sign_ins/" + id + "/prepare_first_factor",
                       {{"strategy", "reset_password_email_code"}, {"email_address_id", idn}});
    BOOST_TEST(prep.status == 422u, prep.body);
    BOOST_TEST(messages_to(s, victim_email) == 0u);
}

// ---------------------------------------------------------------------------------------------------------
// Unverified phone numbers

BOOST_AUTO_TEST_CASE(unverified_phone_does_not_block_sign_up) {
    test_server s(phone_instance);
    http_client squatter(s.fapi_port());
    auto squatter_id = squat(s, squatter, "squatter@example.com", "phone_number", victim_phone);

    auto owner_id = owner_signs_up(s, "phone_number", victim_phone);
    BOOST_TEST(!holds(s, squatter_id, victim_phone));
    BOOST_TEST(user_signed_in_by(s, victim_phone) == owner_id);
}

BOOST_AUTO_TEST_CASE(unverified_phone_does_not_block_bapi_create) {
    test_server s(phone_instance);
    http_client squatter(s.fapi_port());
    auto squatter_id = squat(s, squatter, "squatter@example.com", "phone_number", victim_phone);
    auto b = bapi_client(s);
    auto r = b.bapi(http::verb::post, "/v1/users", json::object{{"phone_number", json::array{victim_phone}}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(!holds(s, squatter_id, victim_phone));
    BOOST_TEST(holds(s, str(r.json.at("id")), victim_phone));

    // The same through POST /v1/phone_numbers with verified=true.
    http_client squatter2(s.fapi_port());
    auto second = squat(s, squatter2, "squatter2@example.com", "phone_number", "+14155552672");
    auto p = b.bapi(http::verb::post, "/v1/phone_numbers",
                    json::object{{"user_id", r.json.at("id")}, {"phone_number", "+14155552672"}, {"verified", true}});
    BOOST_TEST_REQUIRE(p.status == 200u, p.body);
    BOOST_TEST(!holds(s, second, "+14155552672"));
}

BOOST_AUTO_TEST_CASE(unverified_phone_is_not_a_sign_in_identifier) {
    test_server s(phone_instance);
    http_client squatter(s.fapi_port());
    squat(s, squatter, "squatter@example.com", "phone_number", victim_phone);
    http_client c(s.fapi_port());
    auto r = sign_in_password(c, victim_phone);
    expect_error(r, 422, "form_identifier_not_found", "identifier");
    BOOST_TEST(error_shape(r) == error_shape(sign_in_password(c, "+14155550000")));
    auto two_step = c.fapi("POST", "/v1/client/sign_ins", {{"identifier", victim_phone}});
    expect_error(two_step, 422, "form_identifier_not_found", "identifier");
}

BOOST_AUTO_TEST_CASE(unverified_phone_gets_no_reset_code) {
    test_server s(phone_instance);
    http_client squatter(s.fapi_port());
    squat(s, squatter, "squatter@example.com", "phone_number", victim_phone);
    http_client c(s.fapi_port());
    for (auto strategy : {"reset_password_phone_code", "phone_code"}) {
        auto r = c.fapi("POST", "/v1/client/sign_ins", {{"identifier", victim_phone}, {"strategy", strategy}});
        expect_error(r, 422, "form_identifier_not_found", "identifier");
    }
    BOOST_TEST(messages_to(s, victim_phone) == 0u);
}

// ---------------------------------------------------------------------------------------------------------
// Verified owners

BOOST_AUTO_TEST_CASE(verified_owner_is_never_displaced) {
    test_server s;
    auto b = bapi_client(s);
    auto owner_id = seed_user(s.app(), victim_email, password);
    http_client other(s.fapi_port());
    auto other_id = sign_in_browser(s, other, "other@example.com").user_id;

    // Sign-up, BAPI create, BAPI add (verified or not) and /v1/me add: all refused.
    http_client c(s.fapi_port());
    expect_error(c.fapi("POST", "/v1/client/sign_ups", {{"email_address", victim_email}, {"password", password}}), 422,
                 "form_identifier_exists", "email_address");
    expect_error(b.bapi(http::verb::post, "/v1/users", json::object{{"email_address", json::array{victim_email}}}), 422,
                 "form_identifier_exists", "email_address");
    for (bool verified : {true, false})
        expect_error(
            b.bapi(http::verb::post, "/v1/email_addresses",
                   json::object{{"user_id", other_id}, {"email_address", victim_email}, {"verified", verified}}),
            422, "form_identifier_exists", "email_address");
    expect_error(other.fapi("POST", "/v1/me/email_addresses", {{"email_address", victim_email}}), 422,
                 "form_identifier_exists", "email_address");
    BOOST_TEST(ident_of(s, owner_id, victim_email).verification.status == "verified");
    BOOST_TEST(!holds(s, other_id, victim_email));

    // The first verified claim wins, also over a sign-up that started while the address was only claimed
    // unverified: A holds "late@corp.example" unverified; B starts a sign-up with it (not blocked) and gets a code.
    std::string const contested = "late@corp.example";
    http_client a(s.fapi_port());
    std::string idn;
    auto a_id = squat(s, a, "a@example.com", "email_address", contested, &idn);
    http_client bc(s.fapi_port());
    auto started = bc.fapi("POST", "/v1/client/sign_ups", {{"email_address", contested}, {"password", password}});
    BOOST_TEST_REQUIRE(started.status == 200u, started.body);
    auto su = str(response(started).at("id"));
    BOOST_TEST_REQUIRE(
        bc.fapi("POST", sign_up_path(su, "/prepare_verification"), {{"strategy", "email_code"}}).status == 200u);
    auto b_code = s.last_code(contested);
    // A verifies first and owns the address from then on.
    BOOST_TEST_REQUIRE(
        a.fapi("POST", "/v1/me/email_addresses/" + idn + "/prepare_verification", {{"strategy", "email_code"}})
            .status == 200u);
    auto a_code = s.last_code(contested);
    auto verified = a.fapi("POST", "/v1/me/email_addresses/" + idn + "/attempt_verification", {{"code", a_code}});
    BOOST_TEST_REQUIRE(verified.status == 200u, verified.body);
    // B's verification then cannot take it away: the sign-up is refused and A keeps the address.
    auto late =
        bc.fapi("POST", sign_up_path(su, "/attempt_verification"), {{"strategy", "email_code"}, {"code", b_code}});
    expect_error(late, 422, "form_identifier_exists", "email_address");
    BOOST_TEST(ident_of(s, a_id, contested).verification.status == "verified");
}

BOOST_AUTO_TEST_CASE(stale_claim_cannot_be_verified_after_the_owner_took_it) {
    test_server s;
    // The squatter prepares a code for the address (it goes to the real owner's inbox)...
    http_client squatter(s.fapi_port());
    std::string idn;
    auto squatter_id = squat(s, squatter, "squatter@example.com", "email_address", victim_email, &idn);
    BOOST_TEST_REQUIRE(
        squatter.fapi("POST", "/v1/me/email_addresses/" + idn + "/prepare_verification", {{"strategy", "email_code"}})
            .status == 200u);
    auto leaked = s.last_code(victim_email);
    // ...the owner signs up and verifies...
    http_client owner(s.fapi_port());
    auto done = sign_up_verified(s, owner, "email_address", victim_email);
    BOOST_TEST_REQUIRE(done.status == 200u, done.body);
    auto owner_id = str(response(done).at("created_user_id"));
    // ...and the squatter's claim, with its pending code, is gone: even that code changes nothing.
    auto r = squatter.fapi("POST", "/v1/me/email_addresses/" + idn + "/attempt_verification", {{"code", leaked}});
    BOOST_TEST(r.status == 404u, r.body);
    BOOST_TEST(!holds(s, squatter_id, victim_email));
    BOOST_TEST(ident_of(s, owner_id, victim_email).verification.status == "verified");
    // The squatter's client shows the account without it.
    auto client = squatter.fapi("GET", "/v1/client");
    for (auto const& e : client.json.at("response").at("sessions").at(0).at("user").at("email_addresses").as_array())
        BOOST_TEST(str(e.at("email_address")) != victim_email);
}

// ---------------------------------------------------------------------------------------------------------
// Lockout

namespace {

void lockout_of_three(conf::config& c) {
    c.protection.max_attempts = 3;
    c.protection.lockout = std::chrono::seconds(600);
}

/// Fails the password `n` times for `email`.
void fail_password(http_client& c, std::string const& email, int n) {
    for (int i = 0; i < n; ++i)
        expect_error(sign_in_password(c, email, "wrong password " + std::to_string(i)), 422, "form_password_incorrect");
}

}  // namespace

BOOST_AUTO_TEST_CASE(automatic_lockout_visible_in_bapi_user) {
    test_server s(lockout_of_three);
    auto uid = seed_user(s.app(), "locked@example.com", password);
    auto b = bapi_client(s);
    http_client c(s.fapi_port());
    auto get = [&] {
        auto r = b.bapi(http::verb::get, "/v1/users/" + uid);
        BOOST_TEST_REQUIRE(r.status == 200u, r.body);
        return r.json.as_object();
    };
    auto u = get();
    BOOST_TEST(u.at("locked") == false);
    BOOST_TEST(u.at("lockout_expires_in_seconds").is_null());
    BOOST_TEST(u.at("verification_attempts_remaining") == 3);

    fail_password(c, "locked@example.com", 1);
    BOOST_TEST(get().at("verification_attempts_remaining") == 2);
    fail_password(c, "locked@example.com", 2);
    expect_error(sign_in_password(c, "locked@example.com"), 403, "user_locked");

    u = get();
    BOOST_TEST(u.at("locked") == true);
    auto left = u.at("lockout_expires_in_seconds").as_int64();
    BOOST_TEST(left > 590);
    BOOST_TEST(left <= 600);
    BOOST_TEST(u.at("verification_attempts_remaining") == 0);
    // The list shows the same.
    auto listed = b.bapi(http::verb::get, "/v1/users?user_id=" + uid);
    BOOST_TEST(listed.json.as_array().at(0).at("locked") == true);
    // It counts down with the clock.
    s.advance(100s);
    BOOST_TEST(get().at("lockout_expires_in_seconds").as_int64() == left - 100);
    // And ends with the lockout.
    s.advance(501s);
    u = get();
    BOOST_TEST(u.at("locked") == false);
    BOOST_TEST(u.at("lockout_expires_in_seconds").is_null());
    BOOST_TEST(u.at("verification_attempts_remaining") == 3);
}

BOOST_AUTO_TEST_CASE(automatic_lockout_visible_in_fapi_user) {
    test_server s(lockout_of_three);
    auto [me, who] = browser(s, "locked@example.com");
    auto user_of = [&](std::string const& path) {
        auto r = me.fapi("GET", path);
        BOOST_TEST_REQUIRE(r.status == 200u, r.body);
        if (path == "/v1/me") return r.json.at("response").as_object();
        return r.json.at("response").at("sessions").at(0).at("user").as_object();
    };
    // Rendered (and cached) while unlocked.
    BOOST_TEST(user_of("/v1/client").at("locked") == false);
    BOOST_TEST(user_of("/v1/client").at("verification_attempts_remaining") == 3);

    http_client attacker(s.fapi_port());
    fail_password(attacker, "locked@example.com", 3);
    for (auto path : {"/v1/client", "/v1/me"}) {
        auto u = user_of(path);
        BOOST_TEST(u.at("locked") == true, path);
        BOOST_TEST(u.at("lockout_expires_in_seconds").as_int64() > 590, path);
        BOOST_TEST(u.at("verification_attempts_remaining") == 0, path);
    }
    auto left = user_of("/v1/client").at("lockout_expires_in_seconds").as_int64();
    s.advance(30s);
    BOOST_TEST(user_of("/v1/client").at("lockout_expires_in_seconds").as_int64() == left - 30);
    s.advance(600s);
    auto u = user_of("/v1/client");
    BOOST_TEST(u.at("locked") == false);
    BOOST_TEST(u.at("lockout_expires_in_seconds").is_null());
    (void)who;
}

BOOST_AUTO_TEST_CASE(unlock_clears_automatic_lockout) {
    test_server s(lockout_of_three);
    auto uid = seed_user(s.app(), "locked@example.com", password);
    auto b = bapi_client(s);
    http_client c(s.fapi_port());
    fail_password(c, "locked@example.com", 3);
    expect_error(sign_in_password(c, "locked@example.com"), 403, "user_locked");
    BOOST_TEST(b.bapi(http::verb::get, "/v1/users/" + uid).json.at("locked") == true);

    auto un = b.bapi(http::verb::post, "/v1/users/" + uid + "/unlock");
    BOOST_TEST_REQUIRE(un.status == 200u, un.body);
    BOOST_TEST(un.json.at("locked") == false);
    BOOST_TEST(un.json.at("lockout_expires_in_seconds").is_null());
    BOOST_TEST(un.json.at("verification_attempts_remaining") == 3);
    auto in = sign_in_password(c, "locked@example.com");
    BOOST_TEST(in.status == 200u, in.body);
}

BOOST_AUTO_TEST_SUITE_END()
