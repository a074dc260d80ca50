// Email links over HTTP (issue 14, strategy `email_link`): sign-in first factor, sign-up verification and the
// signed-in user's email address verification. The emailed link (outbox) is opened by another browser with
// GET /v1/verify; it redirects to the checked redirect_url with __clerk_status as clerk-js reads it, and the
// original browser's polling sees the attempt verified and completed. Refusals: a foreign redirect_url, the
// strategy off, a wrong, reused, superseded, expired or foreign-attempt token, a malformed token.
#include "tests/common/flows.hpp"
#include "tests/common/server_fixture.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>

using namespace latchkey;
using namespace latchkey::test;

namespace {

using verb = http::verb;

std::string const redirect = "http://localhost:3000/sign-in/verify";

void links_on(conf::config& c) {
    c.first_factors = {"password", "email_code", "email_link", "reset_password_email_code"};
}

/// The last email link sent to `to`.
std::string link_to(test_server& s, std::string const& to) {
    std::string link;
    for (auto const& m : s.outbox())
        if (str(m.at("to")) == to && str(m.at("kind")) == "email_link") link = str(m.at("code"));
    BOOST_TEST_REQUIRE(!link.empty(), "no email link sent to " + to);
    return link;
}

/// The link's path and query on the FAPI.
std::string target_of(test_server& s, std::string const& link) {
    auto const& fapi = s.inst().frontend_api;
    BOOST_TEST_REQUIRE(link.starts_with(fapi + "/v1/verify?token="), link);
    return link.substr(fapi.size());
}

/// Opens the link in a browser of its own (no cookies): the 303's Location.
std::string open_link(test_server& s, std::string const& link, unsigned expect_status = 303) {
    http_client other(s.fapi_port());
    auto r = other.request(verb::get, target_of(s, link));
    BOOST_TEST_REQUIRE(r.status == expect_status, r.body);
    return r.headers["location"];
}

std::string sign_in_path(std::string const& id, std::string const& tail = {}) {
    return "/v1/client/sign_ins/" + id + tail;
}

std::string email_link_factor(json::object const& si) {
    for (auto const& f : si.at("supported_first_factors").as_array())
        if (str(f.at("strategy")) == "email_link") return str(f.at("email_address_id"));
    return {};
}

/// A sign-in for `email` on `c` with its email_link prepared; returns the sign-in id.
std::string prepared_sign_in(test_server& s, http_client& c, std::string const& email) {
    auto created = c.fapi("POST", "/v1/client/sign_ins", {{"identifier", email}});
    BOOST_TEST_REQUIRE(created.status == 200u, created.body);
    std::string const id = str(response(created).at("id"));
    auto prep = c.fapi("POST", sign_in_path(id, "/prepare_first_factor"),
                       {{"strategy", "email_link"},
                        {"email_address_id", email_link_factor(response(created))},
                        {"redirect_url", redirect}});
    BOOST_TEST_REQUIRE(prep.status == 200u, prep.body);
    (void)s;
    return id;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(email_links)

BOOST_AUTO_TEST_CASE(sign_in_by_link_opened_elsewhere) {
    test_server s(links_on);
    auto uid = seed_user(s.app(), "link@example.com", "correct horse battery staple");
    http_client c(s.fapi_port());
    auto created = c.fapi("POST", "/v1/client/sign_ins", {{"identifier", "link@example.com"}});
    BOOST_TEST_REQUIRE(created.status == 200u, created.body);
    std::string const id = str(response(created).at("id"));
    std::string const email_id = email_link_factor(response(created));
    BOOST_TEST_REQUIRE(!email_id.empty(), created.body);

    auto prep = c.fapi("POST", sign_in_path(id, "/prepare_first_factor"),
                       {{"strategy", "email_link"}, {"email_address_id", email_id}, {"redirect_url", redirect}});
    BOOST_TEST_REQUIRE(prep.status == 200u, prep.body);
    auto const& v = response(prep).at("first_factor_verification");
    BOOST_TEST(v.at("status") == "unverified");
    BOOST_TEST(v.at("strategy") == "email_link");
    BOOST_TEST(v.at("expire_at").is_int64());
    std::string const link = link_to(s, "link@example.com");

    // Polling before the link is opened: still unverified.
    auto poll = c.fapi("GET", sign_in_path(id));
    BOOST_TEST(response(poll).at("status") == "needs_first_factor");

    // Opened in another browser: 303 to the redirect_url with the status and the created session.
    std::string const location = open_link(s, link);
    std::string const prefix = redirect + "?__clerk_status=verified&__clerk_created_session=sess_";
    BOOST_TEST(location.starts_with(prefix), location);
    std::string const sid = location.substr(location.find("sess_"));

    // The original browser's poll: verified and complete, the session on ITS client, its credential intact.
    poll = c.fapi("GET", sign_in_path(id));
    BOOST_TEST_REQUIRE(poll.status == 200u, poll.body);
    BOOST_TEST(response(poll).at("status") == "complete");
    BOOST_TEST(str(response(poll).at("created_session_id")) == sid);
    BOOST_TEST(response(poll).at("first_factor_verification").at("status") == "verified");
    BOOST_TEST(response(poll).at("first_factor_verification").at("verified_at_client").is_null());
    auto sess = client_session(poll, sid);
    BOOST_TEST_REQUIRE(sess.is_object(), poll.body);
    BOOST_TEST(str(sess.at("user").at("id")) == uid);
    auto client = c.fapi("GET", "/v1/client");
    BOOST_TEST(str(client.json.at("response").at("last_active_session_id")) == sid);

    // Single use: the same link again fails and changes nothing.
    BOOST_TEST(open_link(s, link) == redirect + "?__clerk_status=failed");
    BOOST_TEST(str(response(c.fapi("GET", sign_in_path(id))).at("created_session_id")) == sid);
}

BOOST_AUTO_TEST_CASE(same_browser_link_reports_its_client) {
    test_server s(links_on);
    seed_user(s.app(), "same@example.com", "correct horse battery staple");
    http_client c(s.fapi_port());
    auto id = prepared_sign_in(s, c, "same@example.com");
    auto client_id = str(c.fapi("GET", "/v1/client").json.at("response").at("id"));
    // The same browser (its cookie jar) opens the link.
    auto r = c.request(verb::get, target_of(s, link_to(s, "same@example.com")));
    BOOST_TEST_REQUIRE(r.status == 303u, r.body);
    BOOST_TEST(r.headers["location"].find("__clerk_status=verified") != std::string::npos);
    auto poll = c.fapi("GET", sign_in_path(id));
    BOOST_TEST(response(poll).at("status") == "complete");
    BOOST_TEST(str(response(poll).at("first_factor_verification").at("verified_at_client")) == client_id);
    BOOST_TEST(client_session(poll, str(response(poll).at("created_session_id"))).is_object());
}

BOOST_AUTO_TEST_CASE(sign_in_link_refusals) {
    {
        // Off unless configured: the strategy is refused.
        test_server s;
        seed_user(s.app(), "off@example.com");
        http_client c(s.fapi_port());
        auto created = c.fapi("POST", "/v1/client/sign_ins", {{"identifier", "off@example.com"}});
        auto id = str(response(created).at("id"));
        BOOST_TEST(email_link_factor(response(created)).empty());
        expect_error(c.fapi("POST", sign_in_path(id, "/prepare_first_factor"), {{"strategy", "email_link"}}), 422,
                     "strategy_for_user_invalid", "strategy");
    }
    test_server s(links_on);
    seed_user(s.app(), "ref@example.com");
    seed_user(s.app(), "other@example.com");
    http_client c(s.fapi_port());
    auto created = c.fapi("POST", "/v1/client/sign_ins", {{"identifier", "ref@example.com"}});
    std::string const id = str(response(created).at("id"));
    std::string const email_id = email_link_factor(response(created));
    expect_error(
        c.fapi(
            "POST", sign_in_path(id, "/prepare_first_factor"),
            {{"strategy", "email_link"}, {"email_address_id", email_id}, {"redirect_url", "https://evil.example/x"}}),
        422, "form_param_value_invalid", "redirect_url");
    expect_error(c.fapi("POST", sign_in_path(id, "/attempt_first_factor"), {{"strategy", "email_link"}, {"code", "x"}}),
                 422, "form_param_value_invalid", "strategy");
    BOOST_TEST(s.outbox().empty());

    // Malformed and unknown tokens.
    http_client anon(s.fapi_port());
    expect_error(anon.request(verb::get, "/v1/verify"), 422, "form_param_missing", "token");
    expect_error(anon.request(verb::get, "/v1/verify?token=nodots"), 422, "form_param_format_invalid", "token");
    expect_error(anon.request(verb::get, "/v1/verify?token=a.b.c.d"), 422, "form_param_format_invalid", "token");
    expect_error(anon.request(verb::get, "/v1/verify?token=sia_missing.idn_x.secret"), 404, "resource_not_found");

    auto prep = c.fapi("POST", sign_in_path(id, "/prepare_first_factor"),
                       {{"strategy", "email_link"}, {"email_address_id", email_id}, {"redirect_url", redirect}});
    BOOST_TEST_REQUIRE(prep.status == 200u, prep.body);
    std::string const first = link_to(s, "ref@example.com");
    std::string const token = first.substr(first.find("token=") + 6);
    auto const last_dot = token.rfind('.');
    // A wrong secret for the right attempt fails and leaves the challenge usable.
    std::string const wrong = token.substr(0, last_dot + 1) + "AAAA" + token.substr(last_dot + 5);
    BOOST_TEST(open_link(s, s.inst().frontend_api + "/v1/verify?token=" + wrong) ==
               redirect + "?__clerk_status=failed");
    // The secret is bound to its attempt: another sign-in's id with it fails.
    http_client c2(s.fapi_port());
    auto other_id = prepared_sign_in(s, c2, "other@example.com");
    std::string const moved = other_id + token.substr(token.find('.'));
    open_link(s, s.inst().frontend_api + "/v1/verify?token=" + moved);
    BOOST_TEST(response(c2.fapi("GET", sign_in_path(other_id))).at("status") == "needs_first_factor");
    // A new prepare supersedes the first link.
    prep = c.fapi("POST", sign_in_path(id, "/prepare_first_factor"),
                  {{"strategy", "email_link"}, {"email_address_id", email_id}, {"redirect_url", redirect}});
    BOOST_TEST_REQUIRE(prep.status == 200u, prep.body);
    std::string const second = link_to(s, "ref@example.com");
    BOOST_TEST(second != first);
    BOOST_TEST(open_link(s, first) == redirect + "?__clerk_status=failed");
    BOOST_TEST(response(c.fapi("GET", sign_in_path(id))).at("status") == "needs_first_factor");
    // Expired.
    s.advance(std::chrono::minutes(11));
    BOOST_TEST(open_link(s, second) == redirect + "?__clerk_status=expired");
    auto poll = c.fapi("GET", sign_in_path(id));
    BOOST_TEST(response(poll).at("status") == "needs_first_factor");
    BOOST_TEST(response(poll).at("first_factor_verification").at("status") == "expired");
    BOOST_TEST(open_link(s, second) == redirect + "?__clerk_status=failed");  // and used up
}

BOOST_AUTO_TEST_CASE(sign_up_by_link) {
    test_server s(links_on);
    http_client c(s.fapi_port());
    auto created = c.fapi("POST", "/v1/client/sign_ups",
                          {{"email_address", "new-link@example.com"}, {"password", "correct horse battery staple"}});
    BOOST_TEST_REQUIRE(created.status == 200u, created.body);
    std::string const id = str(response(created).at("id"));
    expect_error(c.fapi("POST", "/v1/client/sign_ups/" + id + "/prepare_verification",
                        {{"strategy", "email_link"}, {"redirect_url", "javascript:alert(1)"}}),
                 422, "form_param_value_invalid", "redirect_url");
    auto prep = c.fapi("POST", "/v1/client/sign_ups/" + id + "/prepare_verification",
                       {{"strategy", "email_link"}, {"redirect_url", redirect + "#frag"}});
    BOOST_TEST_REQUIRE(prep.status == 200u, prep.body);
    auto const& ev = response(prep).at("verifications").at("email_address");
    BOOST_TEST(ev.at("strategy") == "email_link");
    BOOST_TEST(ev.at("status") == "unverified");

    std::string const location = open_link(s, link_to(s, "new-link@example.com"));
    BOOST_TEST(location.starts_with(redirect + "?__clerk_status=verified&__clerk_created_session=sess_"), location);
    BOOST_TEST(location.ends_with("#frag"), location);
    auto poll = c.fapi("GET", "/v1/client/sign_ups/" + id);
    BOOST_TEST_REQUIRE(poll.status == 200u, poll.body);
    BOOST_TEST(response(poll).at("status") == "complete");
    BOOST_TEST(response(poll).at("verifications").at("email_address").at("status") == "verified");
    std::string const sid = str(response(poll).at("created_session_id"));
    BOOST_TEST(location.find(sid) != std::string::npos);
    BOOST_TEST(client_session(poll, sid).is_object());
}

BOOST_AUTO_TEST_CASE(email_address_verification_by_link) {
    test_server s(links_on);
    auto [c, who] = browser(s, "owner@example.com");
    auto added = c.fapi("POST", "/v1/me/email_addresses", {{"email_address", "second@example.com"}});
    BOOST_TEST_REQUIRE(added.status == 200u, added.body);
    std::string const email_id = str(response(added).at("id"));
    auto prep =
        c.fapi("POST", "/v1/me/email_addresses/" + email_id + "/prepare_verification", {{"strategy", "email_link"}});
    BOOST_TEST_REQUIRE(prep.status == 200u, prep.body);
    BOOST_TEST(response(prep).at("verification").at("strategy") == "email_link");
    // No redirect_url: our own page answers.
    http_client other(s.fapi_port());
    auto page = other.request(verb::get, target_of(s, link_to(s, "second@example.com")));
    BOOST_TEST_REQUIRE(page.status == 200u, page.body);
    BOOST_TEST(page.headers["content-type"].starts_with("text/html"));
    BOOST_TEST(page.headers["content-security-policy"] == "default-src 'none'");
    BOOST_TEST(page.body.find("Verified") != std::string::npos);
    auto got = c.fapi("GET", "/v1/me/email_addresses/" + email_id);
    BOOST_TEST(response(got).at("verification").at("status") == "verified");
    // Used: the page says so, with a 400.
    auto again = other.request(verb::get, target_of(s, link_to(s, "second@example.com")));
    BOOST_TEST(again.status == 400u);
    expect_error(
        c.fapi("POST", "/v1/me/email_addresses/" + email_id + "/prepare_verification", {{"strategy", "email_link"}}),
        400, "verification_already_verified");
    (void)who;
}

BOOST_AUTO_TEST_SUITE_END()
