// The waitlist over HTTP against the real server: POST /v1/waitlist (bare reply, idempotent, rate limited), the
// waitlist sign-up mode (environment, the portal's /waitlist page, sign-ups refused unless invited), BAPI
// /v1/waitlist_entries (list with filters and paging, create, bulk, invite, reject, delete) and the invitation's
// ticket signing the invited person up.
#include "tests/common/flows.hpp"
#include "tests/common/server_fixture.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

using namespace latchkey;
using namespace latchkey::test;

namespace {

using verb = http::verb;
constexpr char const* password = "correct horse battery staple";

void waitlist_mode(conf::config& c) { c.sign_up_mode = "waitlist"; }

std::string join(http_client& c, std::string const& email) {
    auto r = c.fapi("POST", "/v1/waitlist", {{"email_address", email}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    return str(r.json.at("id"));
}

json::object entry(http_client& b, std::string const& email) {
    auto r = b.bapi(verb::get, "/v1/waitlist_entries?query=" + email);
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST_REQUIRE(r.json.at("data").as_array().size() == 1u, r.body);
    return r.json.at("data").as_array()[0].as_object();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(waitlist)

BOOST_AUTO_TEST_CASE(join_answers_bare_and_is_idempotent) {
    test_server s;
    http_client c(s.fapi_port());
    auto r = c.fapi("POST", "/v1/waitlist", {{"email_address", "Wait@Example.com"}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    // Bare (no response/client envelope): clerk-js builds its WaitlistEntry from the whole payload.
    BOOST_TEST(r.json.at("object") == "waitlist_entry");
    BOOST_TEST(str(r.json.at("id")).starts_with("wle_"));
    BOOST_TEST(r.json.as_object().contains("created_at"));
    BOOST_TEST(!r.json.as_object().contains("response"));
    // A repeat join (any case) is the same entry.
    BOOST_TEST(join(c, "wait@example.com") == str(r.json.at("id")));
    auto b = bapi_client(s);
    auto list = b.bapi(verb::get, "/v1/waitlist_entries");
    BOOST_TEST(list.json.at("total_count") == 1);
    BOOST_TEST(list.json.at("data").as_array()[0].at("email_address") == "wait@example.com");
    BOOST_TEST(list.json.at("data").as_array()[0].at("status") == "pending");

    expect_error(c.fapi("POST", "/v1/waitlist", {}), 422, "form_param_missing", "email_address");
    expect_error(c.fapi("POST", "/v1/waitlist", {{"email_address", "not an email"}}), 422, "form_param_format_invalid",
                 "email_address");
    expect_error(c.fapi("POST", "/v1/waitlist", {{"email_address", "a@b.co\r\nBcc: x@y.z"}}), 422,
                 "form_param_format_invalid", "email_address");
}

BOOST_AUTO_TEST_CASE(join_flood_is_rate_limited) {
    test_server s([](conf::config& c) { c.protection.rate_per_ip_per_minute = 5; });
    http_client c(s.fapi_port());
    for (int i = 0; i < 5; ++i) join(c, "flood" + std::to_string(i) + "@example.com");
    auto limited = c.fapi("POST", "/v1/waitlist", {{"email_address", "flood9@example.com"}});
    expect_error(limited, 429, "too_many_requests");
    BOOST_TEST(!limited.headers["retry-after"].empty());
    // Nothing of the refused join was written, and the API keeps answering.
    auto b = bapi_client(s);
    BOOST_TEST(b.bapi(verb::get, "/v1/waitlist_entries").json.at("total_count") == 5);
    BOOST_TEST(c.fapi("GET", "/v1/environment").status == 200u);
}

BOOST_AUTO_TEST_CASE(waitlist_mode_in_environment_and_portal) {
    test_server s(waitlist_mode);
    http_client c(s.fapi_port());
    auto env = c.fapi("GET", "/v1/environment");
    BOOST_TEST_REQUIRE(env.status == 200u);
    BOOST_TEST(env.json.at("user_settings").at("sign_up").at("mode") == "waitlist");
    auto const wl = str(env.json.at("display_config").at("waitlist_url"));
    BOOST_TEST(wl == s.inst().frontend_api + "/waitlist");
    auto page = c.request(verb::get, "/waitlist");
    BOOST_TEST_REQUIRE(page.status == 200u);
    BOOST_TEST(page.body.find("\"page\":\"waitlist\"") != std::string::npos);

    test_server own([](conf::config& cfg) {
        cfg.sign_up_mode = "waitlist";
        cfg.waitlist_url = "https://app.example.com/join";
    });
    http_client c2(own.fapi_port());
    BOOST_TEST(c2.fapi("GET", "/v1/environment").json.at("display_config").at("waitlist_url") ==
               "https://app.example.com/join");
}

BOOST_AUTO_TEST_CASE(sign_up_refused_unless_invited) {
    test_server s(waitlist_mode);
    http_client c(s.fapi_port());
    auto b = bapi_client(s);
    join(c, "later@example.com");
    expect_error(
        c.fapi("POST", "/v1/client/sign_ups", {{"email_address", "later@example.com"}, {"password", password}}), 403,
        "sign_up_restricted_waitlist");
    expect_error(
        c.fapi("POST", "/v1/client/sign_ups", {{"email_address", "other@example.com"}, {"password", password}}), 403,
        "sign_up_restricted_waitlist");

    auto id = str(entry(b, "later@example.com").at("id"));
    auto inv = b.bapi(verb::post, "/v1/waitlist_entries/" + id + "/invite");
    BOOST_TEST_REQUIRE(inv.status == 200u, inv.body);
    BOOST_TEST(inv.json.at("status") == "invited");
    BOOST_TEST(inv.json.at("invitation").at("object") == "invitation");
    BOOST_TEST(inv.json.at("invitation").at("status") == "pending");

    // The invited address signs up the ordinary way (its code still proves it).
    http_client c2(s.fapi_port());
    auto created =
        c2.fapi("POST", "/v1/client/sign_ups", {{"email_address", "later@example.com"}, {"password", password}});
    BOOST_TEST_REQUIRE(created.status == 200u, created.body);
    auto const su = str(response(created).at("id"));
    auto code = s.last_code("later@example.com");
    auto done = c2.fapi("POST", "/v1/client/sign_ups/" + su + "/attempt_verification",
                        {{"strategy", "email_code"}, {"code", code}});
    BOOST_TEST_REQUIRE(done.status == 200u, done.body);
    BOOST_TEST(response(done).at("status") == "complete");
    auto after = entry(b, "later@example.com");
    BOOST_TEST(after.at("status") == "completed");
    BOOST_TEST(after.at("invitation").at("status") == "accepted");
    // A completed entry cannot be invited, rejected or deleted again.
    expect_error(b.bapi(verb::post, "/v1/waitlist_entries/" + id + "/invite"), 409, "waitlist_entry_conflict");
    expect_error(b.bapi(verb::post, "/v1/waitlist_entries/" + id + "/reject"), 409, "waitlist_entry_conflict");
}

BOOST_AUTO_TEST_CASE(invitation_ticket_signs_up_once) {
    test_server s(waitlist_mode);
    http_client c(s.fapi_port());
    auto b = bapi_client(s);
    auto id = join(c, "ticket@example.com");
    BOOST_TEST_REQUIRE(b.bapi(verb::post, "/v1/waitlist_entries/" + id + "/invite").status == 200u);
    auto ticket = ticket_sent_to(s, "ticket@example.com", "waitlist_invitation");
    BOOST_TEST(ticket.starts_with(id + "."));
    // The stored entry keeps only a digest: the ticket appears in no BAPI reply.
    auto shown = b.bapi(verb::get, "/v1/waitlist_entries");
    BOOST_TEST(shown.body.find(ticket.substr(id.size() + 1)) == std::string::npos);

    expect_error(c.fapi("POST", "/v1/client/sign_ups", {{"strategy", "ticket"}, {"ticket", id + ".forged"}}), 422,
                 "form_param_value_invalid", "ticket");
    expect_error(c.fapi("POST", "/v1/client/sign_ups", {{"strategy", "ticket"}}), 422, "form_param_missing", "ticket");

    auto su =
        c.fapi("POST", "/v1/client/sign_ups", {{"strategy", "ticket"}, {"ticket", ticket}, {"password", password}});
    BOOST_TEST_REQUIRE(su.status == 200u, su.body);
    BOOST_TEST(response(su).at("status") == "complete");
    BOOST_TEST(response(su).at("email_address") == "ticket@example.com");
    BOOST_TEST(entry(b, "ticket@example.com").at("status") == "completed");
    // Used once: the same ticket signs no one else up.
    http_client c2(s.fapi_port());
    expect_error(
        c2.fapi("POST", "/v1/client/sign_ups", {{"strategy", "ticket"}, {"ticket", ticket}, {"password", password}}),
        422, "form_param_value_invalid", "ticket");
}

BOOST_AUTO_TEST_CASE(bapi_list_filters_orders_and_pages) {
    test_server s;
    auto b = bapi_client(s);
    for (auto const* e : {"carol@example.com", "alice@example.com", "bob@example.com"}) {
        auto r = b.bapi(verb::post, "/v1/waitlist_entries", json::object{{"email_address", e}, {"notify", false}});
        BOOST_TEST_REQUIRE(r.status == 200u, r.body);
        BOOST_TEST(r.json.at("object") == "waitlist_entry");
        BOOST_TEST(r.json.at("invitation").is_null());
        BOOST_TEST(r.json.at("is_locked") == false);
        s.advance(std::chrono::milliseconds(2));
    }
    auto page = b.bapi(verb::get, "/v1/waitlist_entries?limit=2");
    BOOST_TEST_REQUIRE(page.status == 200u, page.body);
    BOOST_TEST(page.json.at("total_count") == 3);
    BOOST_TEST_REQUIRE(page.json.at("data").as_array().size() == 2u);
    BOOST_TEST(page.json.at("data").as_array()[0].at("email_address") == "bob@example.com");  // newest first
    auto next = b.bapi(verb::get, "/v1/waitlist_entries?limit=2&offset=2");
    BOOST_TEST(next.json.at("data").as_array()[0].at("email_address") == "carol@example.com");
    auto by_email = b.bapi(verb::get, "/v1/waitlist_entries?order_by=%2Bemail_address");
    BOOST_TEST(by_email.json.at("data").as_array()[0].at("email_address") == "alice@example.com");
    BOOST_TEST(b.bapi(verb::get, "/v1/waitlist_entries?query=ALI").json.at("total_count") == 1);

    auto bob = str(entry(b, "bob@example.com").at("id"));
    BOOST_TEST(b.bapi(verb::post, "/v1/waitlist_entries/" + bob + "/invite").status == 200u);
    auto invited = b.bapi(verb::get, "/v1/waitlist_entries?status=invited");
    BOOST_TEST(invited.json.at("total_count") == 1);
    BOOST_TEST(invited.json.at("data").as_array()[0].at("id") == json::value(bob));

    expect_error(b.bapi(verb::get, "/v1/waitlist_entries?status=waiting"), 422, "form_param_value_invalid", "status");
    expect_error(b.bapi(verb::get, "/v1/waitlist_entries?order_by=name"), 422, "form_param_value_invalid", "order_by");
    expect_error(b.bapi(verb::get, "/v1/waitlist_entries?limit=0"), 422, "form_param_value_invalid", "limit");
    expect_error(b.bapi(verb::post, "/v1/waitlist_entries", json::object{}), 422, "form_param_missing",
                 "email_address");
    expect_error(b.bapi(verb::post, "/v1/waitlist_entries", json::object{{"email_address", 5}}), 422,
                 "form_param_type_invalid", "email_address");
}

BOOST_AUTO_TEST_CASE(bapi_create_notifies_bulk_reject_delete) {
    test_server s;
    auto b = bapi_client(s);
    auto one = b.bapi(verb::post, "/v1/waitlist_entries", json::object{{"email_address", "note@example.com"}});
    BOOST_TEST_REQUIRE(one.status == 200u, one.body);
    bool confirmed = false;
    for (auto const& m : s.outbox())
        confirmed =
            confirmed || (str(m.at("to")) == "note@example.com" && str(m.at("kind")) == "waitlist_confirmation");
    BOOST_TEST(confirmed);
    // Idempotent: the same entry, no second message.
    auto again = b.bapi(verb::post, "/v1/waitlist_entries", json::object{{"email_address", "NOTE@example.com"}});
    BOOST_TEST(again.json.at("id") == one.json.at("id"));
    BOOST_TEST(s.outbox().size() == 1u);

    auto bulk = b.bapi(verb::post, "/v1/waitlist_entries/bulk",
                       json::array{json::object{{"email_address", "b1@example.com"}, {"notify", false}},
                                   json::object{{"email_address", "note@example.com"}}});
    BOOST_TEST_REQUIRE(bulk.status == 200u, bulk.body);
    BOOST_TEST_REQUIRE(bulk.json.as_array().size() == 2u);
    BOOST_TEST(bulk.json.as_array()[1].at("id") == one.json.at("id"));
    expect_error(b.bapi(verb::post, "/v1/waitlist_entries/bulk",
                        json::array{json::object{{"email_address", "d@example.com"}},
                                    json::object{{"email_address", "D@example.com"}}}),
                 422, "form_param_value_invalid", "email_address");
    expect_error(b.bapi(verb::post, "/v1/waitlist_entries/bulk", json::array{}), 422, "form_param_value_invalid",
                 "body");
    BOOST_TEST(b.bapi(verb::get, "/v1/waitlist_entries").json.at("total_count") == 2);

    // Reject an invited entry: its ticket dies.
    auto id = str(one.json.at("id"));
    BOOST_TEST_REQUIRE(b.bapi(verb::post, "/v1/waitlist_entries/" + id + "/invite").status == 200u);
    auto ticket = ticket_sent_to(s, "note@example.com", "waitlist_invitation");
    auto rej = b.bapi(verb::post, "/v1/waitlist_entries/" + id + "/reject");
    BOOST_TEST_REQUIRE(rej.status == 200u, rej.body);
    BOOST_TEST(rej.json.at("status") == "rejected");
    BOOST_TEST(rej.json.at("invitation").at("revoked") == true);
    http_client c(s.fapi_port());
    expect_error(
        c.fapi("POST", "/v1/client/sign_ups", {{"strategy", "ticket"}, {"ticket", ticket}, {"password", password}}),
        422, "form_param_value_invalid", "ticket");

    // Delete: pending only.
    expect_error(b.bapi(verb::delete_, "/v1/waitlist_entries/" + id), 409, "waitlist_entry_conflict");
    auto b1 = str(entry(b, "b1@example.com").at("id"));
    auto del = b.bapi(verb::delete_, "/v1/waitlist_entries/" + b1);
    BOOST_TEST_REQUIRE(del.status == 200u, del.body);
    BOOST_TEST(del.json.at("deleted") == true);
    expect_error(b.bapi(verb::delete_, "/v1/waitlist_entries/" + b1), 404, "resource_not_found");
    expect_error(b.bapi(verb::post, "/v1/waitlist_entries/wle_missing/invite"), 404, "resource_not_found");
    // The address is free again.
    BOOST_TEST(b.bapi(verb::post, "/v1/waitlist_entries", json::object{{"email_address", "b1@example.com"}}).status ==
               200u);
}

BOOST_AUTO_TEST_CASE(invite_refuses_an_address_with_a_user) {
    test_server s;
    auto b = bapi_client(s);
    seed_user(s.app(), "taken@example.com");
    auto e = b.bapi(verb::post, "/v1/waitlist_entries",
                    json::object{{"email_address", "taken@example.com"}, {"notify", false}});
    auto id = str(e.json.at("id"));
    expect_error(b.bapi(verb::post, "/v1/waitlist_entries/" + id + "/invite"), 422, "form_identifier_exists",
                 "email_address");
    auto forced = b.bapi(verb::post, "/v1/waitlist_entries/" + id + "/invite", json::object{{"ignore_existing", true}});
    BOOST_TEST(forced.status == 200u, forced.body);
}

BOOST_AUTO_TEST_SUITE_END()
