// Tickets over HTTP against the real server (issue 14): BAPI sign-in tokens, actor tokens (impersonation, the
// `act` claim, the capped session) and application invitations (create, bulk, list, revoke, delete, the email
// link); `strategy: ticket` in FAPI sign-in and sign-up for every kind, GET /v1/tickets/accept; and the BAPI
// second-factor endpoints (/v1/users/{id}/mfa, /totp, /backup_code, /verify_totp).
#include "crypto/encoding.hpp"
#include "crypto/totp.hpp"
#include "server/api/domain/mfa.hpp"
#include "tests/common/flows.hpp"
#include "tests/common/sample_records.hpp"
#include "tests/common/server_fixture.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>

using namespace latchkey;
using namespace latchkey::test;

namespace {

using verb = http::verb;
constexpr char const* password = "correct horse battery staple";

std::string new_user(http_client& b, std::string const& email) {
    return str(create_user(b, {{"email_address", json::array{email}}, {"password", password}}).at("id"));
}

json::object sign_in_token(http_client& b, std::string const& user_id, json::object extra = {}) {
    extra["user_id"] = user_id;
    auto r = b.bapi(verb::post, "/v1/sign_in_tokens", extra);
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    return r.json.as_object();
}

http_result ticket_sign_in(http_client& c, std::string const& ticket) {
    return c.fapi("POST", "/v1/client/sign_ins", {{"strategy", "ticket"}, {"ticket", ticket}});
}

/// A ticket sign-in on `c` that completes with a session of `user_id`: the reply and the session's id.
std::pair<http_result, std::string> signed_in_by_ticket(http_client& c, std::string const& ticket,
                                                        std::string const& user_id) {
    auto r = ticket_sign_in(c, ticket);
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(response(r).at("status") == "complete");
    auto sid = str(response(r).at("created_session_id"));
    BOOST_TEST(str(client_session(r, sid).at("user").at("id")) == user_id);
    return {std::move(r), std::move(sid)};
}

/// BAPI DELETE /v1/users/{user_id}/{what} (mfa, totp, backup_code) answers 200 naming the user; returns the user
/// as BAPI GET shows it afterwards.
http_result delete_second_factor(http_client& b, std::string const& user_id, std::string const& what) {
    auto d = b.bapi(verb::delete_, "/v1/users/" + user_id + "/" + what);
    BOOST_TEST_REQUIRE(d.status == 200u, d.body);
    BOOST_TEST(str(d.json.at("user_id")) == user_id);
    return b.bapi(verb::get, "/v1/users/" + user_id);
}

/// A sign-up by invitation `ticket` with the test password.
http_result ticket_sign_up(http_client& c, std::string const& ticket) {
    return c.fapi("POST", "/v1/client/sign_ups", {{"strategy", "ticket"}, {"ticket", ticket}, {"password", password}});
}

/// Gives the user a verified TOTP secret (raw bytes "12345678901234567890", RFC 6238's) and returns it.
std::string give_totp(test_server& s, std::string const& user_id) {
    std::string const secret = "12345678901234567890";
    edit_user(s, user_id, [&](store::user_record& u) {
        server::api::domain::set_totp_secret(u, *s.app().inst.seal_key, secret, true, s.app().now_ms());
        server::api::domain::refresh_second_factor_flags(u);
    });
    return secret;
}

std::string totp_now(test_server& s, std::string const& secret, int steps = 0) {
    return crypto::totp(secret, s.app().now_ms() / 1000 + steps * 30);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tickets)

BOOST_AUTO_TEST_CASE(sign_in_token_signs_in_once) {
    test_server s;
    auto b = bapi_client(s);
    auto const uid = new_user(b, "ada@example.com");
    auto t = sign_in_token(b, uid);
    BOOST_TEST(t.at("object") == "sign_in_token");
    BOOST_TEST(str(t.at("id")).starts_with("sit_"));
    BOOST_TEST(t.at("status") == "pending");
    BOOST_TEST(str(t.at("user_id")) == uid);
    auto const token = str(t.at("token"));
    BOOST_TEST(str(t.at("url")).starts_with(s.inst().frontend_api + "/v1/tickets/accept?ticket="));

    http_client c(s.fapi_port());
    auto const [r, sid] = signed_in_by_ticket(c, token, uid);
    BOOST_TEST(response(r).at("first_factor_verification").at("strategy") == "ticket");
    BOOST_TEST(client_session(r, sid).at("actor").is_null());

    // Single use, in another browser too; an accepted token cannot be revoked.
    http_client other(s.fapi_port());
    expect_error(ticket_sign_in(other, token), 400, "sign_in_token_already_used");
    expect_error(b.bapi(verb::post, "/v1/sign_in_tokens/" + str(t.at("id")) + "/revoke"), 400,
                 "sign_in_token_cannot_be_revoked");
    // Bad input.
    expect_error(ticket_sign_in(other, ""), 422, "form_param_missing", "ticket");
    expect_error(ticket_sign_in(other, "garbage"), 422, "form_param_value_invalid", "ticket");
    expect_error(ticket_sign_in(other, str(t.at("id")) + ".wrongsecret"), 422, "form_param_value_invalid", "ticket");
    expect_error(ticket_sign_in(other, "sit_nope.x"), 422, "form_param_value_invalid", "ticket");
    expect_error(b.bapi(verb::post, "/v1/sign_in_tokens", json::object{}), 422, "form_param_missing", "user_id");
    expect_error(b.bapi(verb::post, "/v1/sign_in_tokens", json::object{{"user_id", "user_nope"}}), 404,
                 "resource_not_found");
    expect_error(b.bapi(verb::post, "/v1/sign_in_tokens", json::object{{"user_id", uid}, {"expires_in_seconds", 0}}),
                 422, "form_param_value_invalid", "expires_in_seconds");
    expect_error(b.bapi(verb::post, "/v1/sign_in_tokens", json::object{{"user_id", uid}, {"expires_in_seconds", "x"}}),
                 422, "form_param_type_invalid", "expires_in_seconds");
    expect_error(b.bapi(verb::post, "/v1/sign_in_tokens/sit_nope/revoke"), 404, "resource_not_found");
    // A sign-in token is no sign-up ticket.
    auto t2 = sign_in_token(b, uid);
    expect_error(other.fapi("POST", "/v1/client/sign_ups", {{"strategy", "ticket"}, {"ticket", str(t2.at("token"))}}),
                 400, "sign_in_token_can_be_used_only_in_sign_in");
}

BOOST_AUTO_TEST_CASE(sign_in_token_revoked_or_expired_is_refused) {
    test_server s;
    auto b = bapi_client(s);
    auto const uid = new_user(b, "ada@example.com");
    auto t = sign_in_token(b, uid);
    auto rv = b.bapi(verb::post, "/v1/sign_in_tokens/" + str(t.at("id")) + "/revoke");
    BOOST_TEST_REQUIRE(rv.status == 200u, rv.body);
    BOOST_TEST(rv.json.at("status") == "revoked");
    BOOST_TEST(!rv.json.as_object().contains("token"));
    expect_error(b.bapi(verb::post, "/v1/sign_in_tokens/" + str(t.at("id")) + "/revoke"), 400,
                 "sign_in_token_cannot_be_revoked");
    http_client c(s.fapi_port());
    expect_error(ticket_sign_in(c, str(t.at("token"))), 400, "sign_in_token_revoked");

    auto short_lived = sign_in_token(b, uid, {{"expires_in_seconds", 60}});
    s.advance(std::chrono::seconds(61));
    expect_error(ticket_sign_in(c, str(short_lived.at("token"))), 400, "ticket_expired");
    // Nothing was signed in by the refusals (nor a client made).
    auto cl = c.fapi("GET", "/v1/client");
    BOOST_TEST((cl.json.at("response").is_null() || response(cl).at("sessions").as_array().empty()), cl.body);
}

BOOST_AUTO_TEST_CASE(sign_in_token_user_with_second_factor_still_owes_it) {
    test_server s([](conf::config& c) { c.second_factors = {"totp", "backup_code"}; });
    auto b = bapi_client(s);
    auto const uid = new_user(b, "ada@example.com");
    auto const secret = give_totp(s, uid);
    http_client c(s.fapi_port());
    auto r = ticket_sign_in(c, str(sign_in_token(b, uid).at("token")));
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(response(r).at("status") == "needs_second_factor");
    auto const id = str(response(r).at("id"));
    auto done = c.fapi("POST", "/v1/client/sign_ins/" + id + "/attempt_second_factor",
                       {{"strategy", "totp"}, {"code", totp_now(s, secret)}});
    BOOST_TEST_REQUIRE(done.status == 200u, done.body);
    BOOST_TEST(response(done).at("status") == "complete");
}

BOOST_AUTO_TEST_CASE(banned_user_cannot_use_sign_in_token) {
    test_server s;
    auto b = bapi_client(s);
    auto const uid = new_user(b, "ada@example.com");
    auto t = sign_in_token(b, uid);
    BOOST_TEST(b.bapi(verb::post, "/v1/users/" + uid + "/ban").status == 200u);
    http_client c(s.fapi_port());
    expect_error(ticket_sign_in(c, str(t.at("token"))), 403, "user_banned");
    BOOST_TEST(b.bapi(verb::post, "/v1/users/" + uid + "/unban").status == 200u);
    // The refusal did not spend it.
    BOOST_TEST(response(ticket_sign_in(c, str(t.at("token")))).at("status") == "complete");
}

BOOST_AUTO_TEST_CASE(actor_token_impersonates_with_act_claim) {
    test_server s;
    auto b = bapi_client(s);
    auto const uid = new_user(b, "ada@example.com");
    auto const admin = new_user(b, "admin@example.com");
    auto r =
        b.bapi(verb::post, "/v1/actor_tokens",
               json::object{{"user_id", uid}, {"actor", {{"sub", admin}}}, {"session_max_duration_in_seconds", 120}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(r.json.at("object") == "actor_token");
    BOOST_TEST(str(r.json.at("id")).starts_with("act_"));
    BOOST_TEST(str(r.json.at("actor").at("sub")) == admin);
    BOOST_TEST(r.json.at("status") == "pending");
    auto const token = str(r.json.at("token"));
    BOOST_TEST(str(r.json.at("url")).find("/v1/tickets/accept?ticket=") != std::string::npos);

    // The user is signed in already in their own browser; the operator's browser gets a second session.
    http_client own(s.fapi_port());
    sign_in_browser_as(s, own, uid);
    http_client c(s.fapi_port());
    auto si = ticket_sign_in(c, token);
    BOOST_TEST_REQUIRE(si.status == 200u, si.body);
    BOOST_TEST(response(si).at("status") == "complete");
    auto const sid = str(response(si).at("created_session_id"));
    auto sess = client_session(si, sid);
    BOOST_TEST(str(sess.at("actor").at("sub")) == admin);
    BOOST_TEST(str(sess.at("user").at("id")) == uid);
    auto claims = jwt_payload(str(sess.at("last_active_token").at("jwt")));
    BOOST_TEST(str(claims.at("act").at("sub")) == admin);
    BOOST_TEST(str(claims.at("sub")) == uid);
    // Every token of the session carries it (a fresh mint too).
    auto tok = c.fapi("POST", "/v1/client/sessions/" + sid + "/tokens");
    BOOST_TEST_REQUIRE(tok.status == 200u, tok.body);
    BOOST_TEST(str(jwt_payload(str(tok.json.at("jwt"))).at("act").at("sub")) == admin);
    // The session lasts at most session_max_duration.
    auto stored = load_session(s, sid);
    BOOST_TEST_REQUIRE(stored.has_value());
    BOOST_TEST(stored->expire_at <= s.app().now_ms() + 120'000);
    s.advance(std::chrono::seconds(121));
    BOOST_TEST(c.fapi("POST", "/v1/client/sessions/" + sid + "/tokens").status != 200u);
    // An ordinary session has no act.
    auto mine = sign_in_token(b, uid);
    http_client third(s.fapi_port());
    auto plain = ticket_sign_in(third, str(mine.at("token")));
    auto psid = str(response(plain).at("created_session_id"));
    BOOST_TEST(!jwt_payload(str(client_session(plain, psid).at("last_active_token").at("jwt"))).contains("act"));

    // Single use; revoke; bad input.
    http_client d(s.fapi_port());
    expect_error(ticket_sign_in(d, token), 400, "actor_token_already_used");
    expect_error(b.bapi(verb::post, "/v1/actor_tokens/" + str(r.json.at("id")) + "/revoke"), 400,
                 "actor_token_cannot_be_revoked");
    auto second = b.bapi(verb::post, "/v1/actor_tokens", json::object{{"user_id", uid}, {"actor", {{"sub", admin}}}});
    BOOST_TEST_REQUIRE(second.status == 200u, second.body);
    expect_error(
        d.fapi("POST", "/v1/client/sign_ups", {{"strategy", "ticket"}, {"ticket", str(second.json.at("token"))}}), 400,
        "actor_token_can_be_used_only_in_sign_in");
    auto rv = b.bapi(verb::post, "/v1/actor_tokens/" + str(second.json.at("id")) + "/revoke");
    BOOST_TEST_REQUIRE(rv.status == 200u, rv.body);
    BOOST_TEST(rv.json.at("status") == "revoked");
    expect_error(ticket_sign_in(d, str(second.json.at("token"))), 400, "actor_token_revoked");
    expect_error(b.bapi(verb::post, "/v1/actor_tokens/act_nope/revoke"), 404, "resource_not_found");
    // A sign-in token's id is no actor token's.
    expect_error(b.bapi(verb::post, "/v1/actor_tokens/" + str(mine.at("id")) + "/revoke"), 404, "resource_not_found");
    expect_error(b.bapi(verb::post, "/v1/actor_tokens", json::object{{"user_id", uid}}), 422, "form_param_missing",
                 "actor");
    expect_error(b.bapi(verb::post, "/v1/actor_tokens", json::object{{"user_id", uid}, {"actor", {{"name", "x"}}}}),
                 422, "form_param_missing", "actor");
    expect_error(
        b.bapi(verb::post, "/v1/actor_tokens", json::object{{"user_id", "user_nope"}, {"actor", {{"sub", admin}}}}),
        404, "resource_not_found");
    auto expiring = b.bapi(verb::post, "/v1/actor_tokens",
                           json::object{{"user_id", uid}, {"actor", {{"sub", admin}}}, {"expires_in_seconds", 30}});
    s.advance(std::chrono::seconds(31));
    expect_error(ticket_sign_in(d, str(expiring.json.at("token"))), 400, "ticket_expired");
}

BOOST_AUTO_TEST_CASE(invitations_create_list_revoke_delete) {
    test_server s;
    auto b = bapi_client(s);
    auto r = b.bapi(verb::post, "/v1/invitations",
                    json::object{{"email_address", "New@Example.com"},
                                 {"public_metadata", {{"plan", "pro"}}},
                                 {"redirect_url", "https://app.example.com/accept"}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(r.json.at("object") == "invitation");
    BOOST_TEST(str(r.json.at("id")).starts_with("inv_"));
    BOOST_TEST(r.json.at("email_address") == "new@example.com");
    BOOST_TEST(r.json.at("public_metadata").at("plan") == "pro");
    BOOST_TEST(r.json.at("status") == "pending");
    BOOST_TEST(r.json.at("revoked") == false);
    BOOST_TEST(r.json.at("expires_at").as_int64() > s.app().now_ms());
    auto const link = link_sent_to(s, "new@example.com", "invitation");
    BOOST_TEST(link.starts_with("https://app.example.com/accept?__clerk_ticket="));
    BOOST_TEST(link.find("__clerk_status=sign_up") != std::string::npos);
    BOOST_TEST(str(r.json.at("url")) == link);

    expect_error(b.bapi(verb::post, "/v1/invitations", json::object{{"email_address", "new@example.com"}}), 400,
                 "duplicate_record", "email_address");
    new_user(b, "taken@example.com");
    expect_error(b.bapi(verb::post, "/v1/invitations", json::object{{"email_address", "taken@example.com"}}), 422,
                 "form_identifier_exists", "email_address");
    expect_error(b.bapi(verb::post, "/v1/invitations", json::object{}), 422, "form_param_missing", "email_address");
    expect_error(b.bapi(verb::post, "/v1/invitations", json::object{{"email_address", "nope"}}), 422,
                 "form_param_format_invalid", "email_address");
    expect_error(
        b.bapi(verb::post, "/v1/invitations", json::object{{"email_address", "x@example.com"}, {"public_metadata", 3}}),
        422, "form_param_type_invalid", "public_metadata");
    expect_error(
        b.bapi(verb::post, "/v1/invitations", json::object{{"email_address", "x@example.com"}, {"expires_in_days", 0}}),
        422, "form_param_value_invalid", "expires_in_days");
    // notify=false sends nothing; ignore_existing allows a second one.
    auto quiet =
        b.bapi(verb::post, "/v1/invitations", json::object{{"email_address", "quiet@example.com"}, {"notify", false}});
    BOOST_TEST_REQUIRE(quiet.status == 200u, quiet.body);
    for (auto const& m : s.outbox()) BOOST_TEST(str(m.at("to")) != "quiet@example.com");
    auto again = b.bapi(verb::post, "/v1/invitations",
                        json::object{{"email_address", "new@example.com"}, {"ignore_existing", true}});
    BOOST_TEST_REQUIRE(again.status == 200u, again.body);

    // Bulk: all or nothing.
    auto bulk = b.bapi(verb::post, "/v1/invitations/bulk",
                       json::array{json::object{{"email_address", "b1@example.com"}},
                                   json::object{{"email_address", "b2@example.com"}}});
    BOOST_TEST_REQUIRE(bulk.status == 200u, bulk.body);
    BOOST_TEST(bulk.json.as_array().size() == 2u);
    expect_error(b.bapi(verb::post, "/v1/invitations/bulk",
                        json::array{json::object{{"email_address", "b3@example.com"}},
                                    json::object{{"email_address", "taken@example.com"}}}),
                 422, "form_identifier_exists", "email_address");
    expect_error(b.bapi(verb::post, "/v1/invitations/bulk", json::array{}), 422, "form_param_value_invalid", "body");

    // List: newest first, non-revoked, paged; the paginated shape for @clerk/backend.
    auto list = b.bapi(verb::get, "/v1/invitations?paginated=true&limit=2");
    BOOST_TEST_REQUIRE(list.status == 200u, list.body);
    BOOST_TEST(list.json.at("total_count") == 5);  // b3 was never written
    BOOST_TEST(list.json.at("data").as_array().size() == 2u);
    auto plain = b.bapi(verb::get, "/v1/invitations?query=quiet");
    BOOST_TEST_REQUIRE(plain.json.is_array());
    BOOST_TEST(plain.json.as_array().size() == 1u);
    BOOST_TEST(plain.json.as_array()[0].at("url").is_null());
    expect_error(b.bapi(verb::get, "/v1/invitations?status=bogus"), 422, "form_param_value_invalid", "status");
    expect_error(b.bapi(verb::get, "/v1/invitations?order_by=name"), 422, "form_param_value_invalid", "order_by");

    // Revoke, then it is listed only when asked for.
    auto const qid = str(quiet.json.at("id"));
    auto rv = b.bapi(verb::post, "/v1/invitations/" + qid + "/revoke");
    BOOST_TEST_REQUIRE(rv.status == 200u, rv.body);
    BOOST_TEST(rv.json.at("status") == "revoked");
    BOOST_TEST(rv.json.at("revoked") == true);
    expect_error(b.bapi(verb::post, "/v1/invitations/" + qid + "/revoke"), 400, "invitation_already_revoked");
    expect_error(b.bapi(verb::post, "/v1/invitations/inv_nope/revoke"), 404, "resource_not_found");
    BOOST_TEST(b.bapi(verb::get, "/v1/invitations?paginated=true").json.at("total_count") == 4);
    BOOST_TEST(b.bapi(verb::get, "/v1/invitations?paginated=true&status=revoked").json.at("total_count") == 1);
    // Expired shows as such.
    s.advance(std::chrono::hours(24 * 31));
    BOOST_TEST(b.bapi(verb::get, "/v1/invitations?paginated=true&status=expired").json.at("total_count") == 4);
    // Delete.
    auto del = b.bapi(verb::delete_, "/v1/invitations/" + qid);
    BOOST_TEST_REQUIRE(del.status == 200u, del.body);
    BOOST_TEST(del.json.at("deleted") == true);
    expect_error(b.bapi(verb::delete_, "/v1/invitations/" + qid), 404, "resource_not_found");
}

BOOST_AUTO_TEST_CASE(invitation_ticket_signs_up_once) {
    test_server s([](conf::config& c) { c.sign_up_mode = "restricted"; });
    auto b = bapi_client(s);
    auto r = b.bapi(verb::post, "/v1/invitations",
                    json::object{{"email_address", "new@example.com"}, {"public_metadata", {{"plan", "pro"}}}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    auto const ticket = ticket_of(link_sent_to(s, "new@example.com", "invitation"));
    http_client c(s.fapi_port());
    // Restricted mode refuses a plain sign-up but admits the invitation.
    expect_error(c.fapi("POST", "/v1/client/sign_ups", {{"email_address", "new@example.com"}, {"password", password}}),
                 403, "sign_up_mode_restricted");
    // An invitation is no sign-in ticket.
    expect_error(ticket_sign_in(c, ticket), 400, "invitation_can_be_used_only_in_sign_up");
    auto su = ticket_sign_up(c, ticket);
    BOOST_TEST_REQUIRE(su.status == 200u, su.body);
    BOOST_TEST(response(su).at("status") == "complete");
    BOOST_TEST(response(su).at("email_address") == "new@example.com");
    auto const uid = str(response(su).at("created_user_id"));
    auto u = b.bapi(verb::get, "/v1/users/" + uid);
    BOOST_TEST(u.json.at("public_metadata").at("plan") == "pro");
    BOOST_TEST(u.json.at("email_addresses").as_array()[0].at("verification").at("status") == "verified");
    auto inv = b.bapi(verb::get, "/v1/invitations?status=accepted");
    BOOST_TEST_REQUIRE(inv.json.as_array().size() == 1u, inv.body);
    BOOST_TEST(str(inv.json.as_array()[0].at("id")) == str(r.json.at("id")));
    expect_error(b.bapi(verb::post, "/v1/invitations/" + str(r.json.at("id")) + "/revoke"), 400,
                 "invitation_already_accepted");
    // Used once.
    http_client other(s.fapi_port());
    expect_error(ticket_sign_up(other, ticket), 400, "invitation_already_accepted");
}

BOOST_AUTO_TEST_CASE(revoked_invitation_cannot_sign_up) {
    test_server s;
    auto b = bapi_client(s);
    auto r = b.bapi(verb::post, "/v1/invitations", json::object{{"email_address", "new@example.com"}});
    auto const ticket = ticket_of(link_sent_to(s, "new@example.com", "invitation"));
    BOOST_TEST(b.bapi(verb::post, "/v1/invitations/" + str(r.json.at("id")) + "/revoke").status == 200u);
    http_client c(s.fapi_port());
    expect_error(ticket_sign_up(c, ticket), 400, "invitation_already_revoked");
}

BOOST_AUTO_TEST_CASE(tickets_accept_redirects_by_kind) {
    test_server s;
    auto b = bapi_client(s);
    auto const uid = new_user(b, "ada@example.com");
    http_client c(s.fapi_port());
    auto const sit = str(sign_in_token(b, uid).at("token"));
    auto r = c.request(verb::get, "/v1/tickets/accept?ticket=" + sit);
    BOOST_TEST_REQUIRE(r.status == 303u, r.body);
    auto const loc = r.headers["location"];
    BOOST_TEST(loc.starts_with(s.inst().frontend_api + "/sign-in?__clerk_ticket="));
    BOOST_TEST(loc.find("__clerk_status=sign_in") != std::string::npos);
    BOOST_TEST(ticket_of(loc) == sit);
    // Looking does not spend it.
    BOOST_TEST(response(ticket_sign_in(c, sit)).at("status") == "complete");

    b.bapi(verb::post, "/v1/invitations", json::object{{"email_address", "new@example.com"}});
    auto const inv = ticket_of(link_sent_to(s, "new@example.com", "invitation"));
    auto ri = c.request(verb::get, "/v1/tickets/accept?ticket=" + inv);
    BOOST_TEST_REQUIRE(ri.status == 303u, ri.body);
    BOOST_TEST(ri.headers["location"].find("/sign-up?__clerk_ticket=") != std::string::npos);
    BOOST_TEST(ri.headers["location"].find("__clerk_status=sign_up") != std::string::npos);

    expect_error(c.request(verb::get, "/v1/tickets/accept?ticket=" + sit), 400, "sign_in_token_already_used");
    expect_error(c.request(verb::get, "/v1/tickets/accept?ticket=sit_nope.x"), 404, "resource_not_found", "ticket");
    expect_error(c.request(verb::get, "/v1/tickets/accept"), 422, "form_param_missing", "ticket");
}

BOOST_AUTO_TEST_CASE(organization_invitation_ticket_signs_in_and_joins) {
    test_server s([](conf::config& c) { c.organizations.enabled = true; });
    auto b = bapi_client(s);
    auto const alice = new_user(b, "alice@example.com");
    auto const bob = new_user(b, "bob@example.com");
    auto org = b.bapi(verb::post, "/v1/organizations", json::object{{"name", "Acme"}, {"created_by", alice}});
    BOOST_TEST_REQUIRE(org.status == 200u, org.body);
    auto const oid = str(org.json.at("id"));
    auto inv =
        b.bapi(verb::post, "/v1/organizations/" + oid + "/invitations",
               json::object{{"email_address", "bob@example.com"}, {"role", "org:member"}, {"inviter_user_id", alice}});
    BOOST_TEST_REQUIRE(inv.status == 200u, inv.body);
    auto const ticket = ticket_of(link_sent_to(s, "bob@example.com", "organization_invitation"));
    http_client c(s.fapi_port());
    signed_in_by_ticket(c, ticket, bob);
    auto members = b.bapi(verb::get, "/v1/organizations/" + oid + "/memberships");
    BOOST_TEST_REQUIRE(members.status == 200u, members.body);
    BOOST_TEST(members.body.find(bob) != std::string::npos);
    http_client other(s.fapi_port());
    expect_error(ticket_sign_in(other, ticket), 422, "form_param_value_invalid", "ticket");
}

BOOST_AUTO_TEST_CASE(bapi_second_factor_endpoints) {
    test_server s([](conf::config& c) { c.second_factors = {"totp", "backup_code", "phone_code"}; });
    auto b = bapi_client(s);
    auto const uid = new_user(b, "ada@example.com");
    expect_error(b.bapi(verb::post, "/v1/users/" + uid + "/verify_totp", json::object{{"code", "123456"}}), 422,
                 "strategy_for_user_invalid", "code");
    auto const secret = give_totp(s, uid);
    std::vector<std::string> codes;
    edit_user(s, uid, [&](store::user_record& u) {
        codes = server::api::domain::create_backup_codes(u, s.app().inst.code_key, s.app().now_ms());
        server::api::domain::refresh_second_factor_flags(u);
    });
    auto ok = b.bapi(verb::post, "/v1/users/" + uid + "/verify_totp", json::object{{"code", totp_now(s, secret)}});
    BOOST_TEST_REQUIRE(ok.status == 200u, ok.body);
    BOOST_TEST(ok.json.at("verified") == true);
    BOOST_TEST(ok.json.at("code_type") == "totp");
    // The same step again is refused (single use).
    expect_error(b.bapi(verb::post, "/v1/users/" + uid + "/verify_totp", json::object{{"code", totp_now(s, secret)}}),
                 422, "form_code_incorrect", "code");
    auto bc = b.bapi(verb::post, "/v1/users/" + uid + "/verify_totp", json::object{{"code", codes[0]}});
    BOOST_TEST_REQUIRE(bc.status == 200u, bc.body);
    BOOST_TEST(bc.json.at("code_type") == "backup_code");
    expect_error(b.bapi(verb::post, "/v1/users/" + uid + "/verify_totp", json::object{{"code", codes[0]}}), 422,
                 "form_code_incorrect", "code");
    expect_error(b.bapi(verb::post, "/v1/users/" + uid + "/verify_totp", json::object{}), 422, "form_param_missing",
                 "code");
    expect_error(b.bapi(verb::post, "/v1/users/user_nope/verify_totp", json::object{{"code", "1"}}), 404,
                 "resource_not_found");

    // Delete the TOTP: backup codes stay.
    auto u = delete_second_factor(b, uid, "totp");
    BOOST_TEST(u.json.at("totp_enabled") == false);
    BOOST_TEST(u.json.at("backup_code_enabled") == true);
    // Delete the backup codes.
    BOOST_TEST(b.bapi(verb::delete_, "/v1/users/" + uid + "/backup_code").status == 200u);
    BOOST_TEST(b.bapi(verb::get, "/v1/users/" + uid).json.at("backup_code_enabled") == false);
    // Disable everything at once (TOTP again, a phone reserved for SMS).
    give_totp(s, uid);
    edit_user(s, uid, [&](store::user_record& x) {
        auto p = identification("phone_number", "idn_phone1", "+15555550100", "verified");
        p.reserved_for_second_factor = true;
        p.default_second_factor = true;
        x.identifications.push_back(p);
        server::api::domain::refresh_second_factor_flags(x);
    });
    BOOST_TEST(b.bapi(verb::get, "/v1/users/" + uid).json.at("two_factor_enabled") == true);
    auto after = delete_second_factor(b, uid, "mfa");
    BOOST_TEST(after.json.at("two_factor_enabled") == false);
    BOOST_TEST(after.json.at("totp_enabled") == false);
    for (auto n : {"mfa", "totp", "backup_code"})
        expect_error(b.bapi(verb::delete_, std::string("/v1/users/user_nope/") + n), 404, "resource_not_found");
}

BOOST_AUTO_TEST_CASE(environment_second_factor_required_from_config) {
    test_server off;
    http_client c(off.fapi_port());
    BOOST_TEST(
        c.fapi("GET", "/v1/environment").json.at("user_settings").at("sign_in").at("second_factor").at("required") ==
        false);
    test_server on([](conf::config& cfg) {
        cfg.second_factors = {"totp"};
        cfg.second_factor_required = true;
    });
    http_client d(on.fapi_port());
    BOOST_TEST(
        d.fapi("GET", "/v1/environment").json.at("user_settings").at("sign_in").at("second_factor").at("required") ==
        true);
}

BOOST_AUTO_TEST_CASE(required_mfa_gives_a_pending_session_until_totp_is_set_up) {
    test_server s([](conf::config& cfg) {
        cfg.second_factors = {"totp", "backup_code"};
        cfg.second_factor_required = true;
    });
    auto b = bapi_client(s);
    auto const uid = new_user(b, "ada@example.com");
    http_client c(s.fapi_port());
    auto r = c.fapi("POST", "/v1/client/sign_ins",
                    {{"identifier", "ada@example.com"}, {"strategy", "password"}, {"password", password}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(response(r).at("status") == "complete");
    auto const sid = str(response(r).at("created_session_id"));
    auto sess = client_session(r, sid);
    BOOST_TEST(sess.at("status") == "pending");
    BOOST_TEST_REQUIRE(sess.at("tasks").is_array());
    BOOST_TEST(sess.at("tasks").as_array()[0].at("key") == "setup-mfa");
    BOOST_TEST(jwt_payload(str(sess.at("last_active_token").at("jwt"))).at("sts") == "pending");
    // Enrolling TOTP from the pending session activates it; the next token says so.
    auto t = c.fapi("POST", "/v1/me/totp?_clerk_session_id=" + sid);
    BOOST_TEST_REQUIRE(t.status == 200u, t.body);
    auto const key = crypto::base32_decode(str(response(t).at("secret")));
    BOOST_TEST_REQUIRE(key.has_value());
    auto v = c.fapi("POST", "/v1/me/totp/attempt_verification?_clerk_session_id=" + sid, {{"code", totp_now(s, *key)}});
    BOOST_TEST_REQUIRE(v.status == 200u, v.body);
    auto after = client_session(v, sid);
    BOOST_TEST(after.at("status") == "active");
    BOOST_TEST(after.at("tasks").is_null());
    BOOST_TEST(jwt_payload(str(after.at("last_active_token").at("jwt"))).at("sts") == "active");
    // A user with a second factor signs in active (after it); an actor token's session is active too.
    auto const other = new_user(b, "bob@example.com");
    auto act = b.bapi(verb::post, "/v1/actor_tokens", json::object{{"user_id", other}, {"actor", {{"sub", uid}}}});
    http_client d(s.fapi_port());
    auto ai = ticket_sign_in(d, str(act.json.at("token")));
    BOOST_TEST_REQUIRE(ai.status == 200u, ai.body);
    BOOST_TEST(client_session(ai, str(response(ai).at("created_session_id"))).at("status") == "active");
}

BOOST_AUTO_TEST_SUITE_END()
