// The delivery queue and what goes on the wire: the LMDB job queue (same-txn enqueue, an aborted txn drops the job,
// lease, backoff schedule, dead state, resume after reopen), MIME building with header checks, the Svix signature
// against Svix's published vector, the delivery settings' validation, and the API enqueueing webhook and email jobs
// in the txn of the change (a refused change enqueues nothing; a header-injection attempt is a 422).
#include "conf/load.hpp"
#include "crypto/encoding.hpp"
#include "server/api/app.hpp"
#include "server/delivery/message.hpp"
#include "store/lmdb/open.hpp"
#include "store/queue.hpp"
#include "tests/common/server_fixture.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

using namespace latchkey;
using namespace latchkey::test;

namespace {

/// The LMDB store in `dir` (created if missing), as the server opens it.
std::unique_ptr<store::database> open_store(std::string const& dir) {
    store::lmdb::options o;
    o.dir = dir + "/db";
    o.map_size = 64ull << 20;
    auto opened = store::lmdb::open(o);
    BOOST_TEST_REQUIRE(opened.has_value());
    BOOST_TEST_REQUIRE(*opened != nullptr);
    return std::move(*opened);
}

store::job_record job(std::string id, std::int64_t due) {
    store::job_record j;
    j.id = std::move(id);
    j.kind = "webhook";
    j.payload = R"({"url":"http://127.0.0.1:1/","msg_id":"msg_1","body":"{}"})";
    j.next_attempt_at = due;
    j.created_at = due;
    return j;
}

std::vector<store::job_record> all_jobs(store::database& d, store::job_queue const& q) {
    auto r = d.with_read([&](store::read_txn& t) { return q.list(t, 1000); });
    BOOST_TEST_REQUIRE(r.has_value());
    return *r;
}

/// Jobs the running server holds, by kind.
std::vector<store::job_record> jobs_of(test_server& s, std::string const& kind) {
    std::vector<store::job_record> out;
    auto r = s.app().db.with_read([&](store::read_txn& t) { return s.app().jobs->list(t, 1000); });
    BOOST_TEST_REQUIRE(r.has_value());
    for (auto& j : *r)
        if (j.kind == kind) out.push_back(std::move(j));
    return out;
}

/// The event envelope carried by a webhook job.
json::object envelope_of(store::job_record const& j) {
    auto p = json::parse(j.payload).as_object();
    return json::parse(p.at("body").as_string()).as_object();
}

void unreachable_delivery(conf::config& c) {
    c.delivery.email.mode = "smtp";
    c.delivery.email.host = "127.0.0.1";
    c.delivery.email.port = 1;  // nothing listens: every attempt fails at once and is rescheduled
    c.delivery.email.from = "Acme <no-reply@acme.test>";
    c.delivery.backoff_base = std::chrono::minutes(10);
    c.delivery.backoff_max = std::chrono::minutes(10);
    c.webhooks.push_back({"http://127.0.0.1:1/hooks", {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, {}, {}});
}

}  // namespace

BOOST_AUTO_TEST_SUITE(delivery)

BOOST_AUTO_TEST_CASE(enqueue_lands_with_its_txn_and_an_abort_drops_it) {
    tmp_dir dir;
    auto d = open_store(dir.path);
    auto q = store::job_queue::open(*d);
    BOOST_TEST_REQUIRE(q.has_value());
    auto ok = d->with_write([&](store::write_txn& w) -> store::result<void> {
        if (auto r = w.meta().put("change", "1"); !r) return r;
        return q->enqueue(w, job("job_a", 1000));
    });
    BOOST_TEST_REQUIRE(ok.has_value());
    auto aborted = d->with_write([&](store::write_txn& w) -> store::result<void> {
        if (auto r = q->enqueue(w, job("job_b", 1000)); !r) return r;
        return store::make_error_code(store::errc::aborted);  // the change fails after enqueueing
    });
    BOOST_TEST(!aborted.has_value());
    auto jobs = all_jobs(*d, *q);
    BOOST_TEST_REQUIRE(jobs.size() == 1u);
    BOOST_TEST(jobs[0].id == "job_a");
    BOOST_TEST(jobs[0].state == "pending");
    auto c = q->counts();
    BOOST_TEST(c->pending == 1u);
    BOOST_TEST(c->dead == 0u);
    // The same id twice is refused, and nothing of the second write lands.
    auto twice = d->with_write([&](store::write_txn& w) { return q->enqueue(w, job("job_a", 5)); });
    BOOST_TEST(!twice.has_value());
    BOOST_TEST(**q->next_due() == 1000);
}

BOOST_AUTO_TEST_CASE(backoff_doubles_with_jitter_and_is_capped) {
    store::retry_policy p{8, 1000, 30'000};
    BOOST_TEST(store::backoff_ms(p, 1, 0.0) == 500);
    BOOST_TEST(store::backoff_ms(p, 1, 0.999999) == 999);
    BOOST_TEST(store::backoff_ms(p, 2, 0.0) == 1000);
    BOOST_TEST(store::backoff_ms(p, 3, 0.0) == 2000);
    BOOST_TEST(store::backoff_ms(p, 5, 0.5) == 12000);  // d = 16000: 8000 + 0.5 * 8000
    BOOST_TEST(store::backoff_ms(p, 6, 0.0) == 15000);  // d capped at 30000
    BOOST_TEST(store::backoff_ms(p, 60, 0.999999) == 29999);
    for (int a = 1; a < 40; ++a) {
        auto lo = store::backoff_ms(p, a, 0.0);
        auto hi = store::backoff_ms(p, a, 0.999999);
        BOOST_TEST(lo <= hi);
        BOOST_TEST(hi < 30'000);
        BOOST_TEST(lo >= 500);
    }
}

BOOST_AUTO_TEST_CASE(claim_leases_fail_reschedules_and_the_last_attempt_is_dead) {
    tmp_dir dir;
    auto d = open_store(dir.path);
    auto q = store::job_queue::open(*d);
    BOOST_TEST_REQUIRE(q.has_value());
    BOOST_TEST_REQUIRE(
        d->with_write([&](store::write_txn& w) { return q->enqueue(w, job("job_x", 100)); }).has_value());
    BOOST_TEST_REQUIRE(
        d->with_write([&](store::write_txn& w) { return q->enqueue(w, job("job_later", 5000)); }).has_value());
    // Not due yet: nothing.
    BOOST_TEST(q->claim(50, 1000, 8)->empty());
    auto c1 = q->claim(100, 1000, 8);
    BOOST_TEST_REQUIRE(c1->size() == 1u);
    BOOST_TEST((*c1)[0].attempts == 1);
    BOOST_TEST((*c1)[0].leased);
    BOOST_TEST((*c1)[0].next_attempt_at == 1100);
    // Leased: another worker does not take it before the lease ends.
    BOOST_TEST(q->claim(200, 1000, 8)->empty());
    BOOST_TEST_REQUIRE(q->fail("job_x", 300, false, "http: status 500").has_value());
    BOOST_TEST(**q->next_due() == 300);
    auto c2 = q->claim(300, 1000, 8);
    BOOST_TEST_REQUIRE(c2->size() == 1u);
    BOOST_TEST((*c2)[0].attempts == 2);
    BOOST_TEST((*c2)[0].last_error == "http: status 500");
    BOOST_TEST_REQUIRE(q->fail("job_x", 0, true, "gave up").has_value());
    auto c = q->counts();
    BOOST_TEST(c->dead == 1u);
    BOOST_TEST(c->pending == 1u);                  // job_later
    BOOST_TEST(q->claim(4000, 1000, 8)->empty());  // a dead job is never claimed again
    auto jobs = all_jobs(*d, *q);
    BOOST_TEST_REQUIRE(jobs.size() == 2u);
    BOOST_TEST(jobs[1].id == "job_x");  // ids sort as written here
    BOOST_TEST(jobs[1].state == "dead");
    BOOST_TEST(jobs[1].last_error == "gave up");
    // The other one completes: gone.
    auto c3 = q->claim(5000, 1000, 8);
    BOOST_TEST_REQUIRE(c3->size() == 1u);
    BOOST_TEST_REQUIRE(q->complete("job_later").has_value());
    BOOST_TEST(q->counts()->pending == 0u);
    BOOST_TEST(!q->next_due()->has_value());
    BOOST_TEST(q->complete("job_later").has_value());  // twice is fine (at-least-once)
}

BOOST_AUTO_TEST_CASE(a_reopened_store_resumes_what_was_in_flight) {
    tmp_dir dir;
    {
        auto d = open_store(dir.path);
        auto q = store::job_queue::open(*d);
        BOOST_TEST_REQUIRE(
            d->with_write([&](store::write_txn& w) { return q->enqueue(w, job("job_1", 10)); }).has_value());
        BOOST_TEST_REQUIRE(
            d->with_write([&](store::write_txn& w) { return q->enqueue(w, job("job_2", 10)); }).has_value());
        BOOST_TEST_REQUIRE(
            d->with_write([&](store::write_txn& w) { return q->enqueue(w, job("job_3", 90'000)); }).has_value());
        BOOST_TEST(q->claim(10, 60'000, 1)->size() == 1u);  // job_1 in flight when the process "dies"
    }
    auto d = open_store(dir.path);
    auto q = store::job_queue::open(*d);
    BOOST_TEST_REQUIRE(q.has_value());
    BOOST_TEST(*q->resume(20) == 1u);
    auto c = q->claim(20, 60'000, 8);
    BOOST_TEST_REQUIRE(c->size() == 2u);  // job_2 (due at 10) and job_1 (resumed: due at 20); job_3 is not due
    BOOST_TEST((*c)[0].id == "job_2");
    BOOST_TEST((*c)[0].attempts == 1);
    BOOST_TEST((*c)[1].id == "job_1");
    BOOST_TEST((*c)[1].attempts == 2);
    BOOST_TEST(q->counts()->pending == 3u);
}

BOOST_AUTO_TEST_CASE(mime_is_built_with_checked_headers) {
    server::delivery::mail m{"Acme Auth <no-reply@acme.test>", "user@example.com", "123456 is your code",
                             "Hello.\nYour code is 123456.\n", "msg_abc",          1'700'000'000};
    std::string why;
    auto mime = server::delivery::build_mime(m, why);
    BOOST_TEST_REQUIRE(mime.has_value(), why);
    BOOST_TEST(mime->starts_with("Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"));
    BOOST_TEST(mime->find("\r\nFrom: Acme Auth <no-reply@acme.test>\r\n") != std::string::npos);
    BOOST_TEST(mime->find("\r\nTo: <user@example.com>\r\n") != std::string::npos);
    BOOST_TEST(mime->find("\r\nSubject: 123456 is your code\r\n") != std::string::npos);
    BOOST_TEST(mime->find("\r\nMessage-ID: <msg_abc@acme.test>\r\n") != std::string::npos);
    BOOST_TEST(mime->find("\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n") !=
               std::string::npos);
    auto body = mime->substr(mime->find("\r\n\r\n") + 4);
    body.erase(std::remove(body.begin(), body.end(), '\r'), body.end());
    body.erase(std::remove(body.begin(), body.end(), '\n'), body.end());
    BOOST_TEST(*crypto::base64_decode(body) == "Hello.\r\nYour code is 123456.\r\n");

    // Any CR or LF in a header value: nothing is built.
    for (auto bad : {"user@example.com\r\nBcc: all@example.com", "user@example.com\n", "a\rb@example.com"}) {
        auto x = m;
        x.to = bad;
        BOOST_TEST(!server::delivery::build_mime(x, why).has_value());
    }
    auto s = m;
    s.subject = "code\r\nBcc: all@example.com";
    BOOST_TEST(!server::delivery::build_mime(s, why).has_value());
    BOOST_TEST(why.find("subject") != std::string::npos);
    auto f = m;
    f.from = "Evil\n <x@y.z>";
    BOOST_TEST(!server::delivery::build_mime(f, why).has_value());
    auto two = m;
    two.to = "a@example.com, b@example.com";
    BOOST_TEST(!server::delivery::build_mime(two, why).has_value());
    // A non-ASCII subject becomes RFC 2047 encoded words.
    auto u = m;
    u.subject = "Votre code: caf\xc3\xa9";
    auto enc = server::delivery::build_mime(u, why);
    BOOST_TEST_REQUIRE(enc.has_value());
    BOOST_TEST(enc->find("\r\nSubject: =?UTF-8?B?" + crypto::base64_encode(u.subject) + "?=\r\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(templates_render_placeholders) {
    BOOST_TEST(server::delivery::render("{{code}} for {{ app_name }} {{unknown}}",
                                        {{"code", "1"}, {"app_name", "A"}}) == "1 for A {{unknown}}");
    BOOST_TEST(server::delivery::render("{{code", {{"code", "1"}}) == "{{code");
    BOOST_TEST(server::delivery::address_of("Acme <a@b.c>") == "a@b.c");
    BOOST_TEST(server::delivery::address_of(" a@b.c ") == "a@b.c");
}

BOOST_AUTO_TEST_CASE(svix_signature_matches_the_published_vector) {
    // From Svix's "verifying webhooks manually" documentation.
    auto sig = server::delivery::svix_signature({"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
                                                "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, R"({"test": 2432232314})");
    BOOST_TEST(sig == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    // Rotation: one v1 entry per secret, space-separated, the first secret first.
    auto two = server::delivery::svix_signature(
        {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
        "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, R"({"test": 2432232314})");
    BOOST_TEST(two == sig + " " + sig);
}

BOOST_AUTO_TEST_CASE(delivery_settings_are_validated) {
    auto load = [](std::string const& text) -> std::string {
        conf::config c;
        if (auto e = conf::apply_json(c, text)) return e->what();
        if (auto e = conf::validate(c)) return e->what();
        return "";
    };
    BOOST_TEST(load(R"({"delivery":{"email":{"mode":"smtp","host":"mail.acme.test","from":"Acme <a@acme.test>"}}})") ==
               "");
    BOOST_TEST(
        load(R"({"delivery":{"email":{"mode":"smtp","from":"a@acme.test"}}})").starts_with("delivery.email.host"));
    BOOST_TEST(load(R"({"delivery":{"email":{"mode":"smtp","host":"h","from":"Acme <a@acme.test>\r\nBcc: x@y.z"}}})")
                   .starts_with("delivery.email.from"));
    BOOST_TEST(load(R"({"delivery":{"email":{"mode":"smtp","host":"h","from":"a@acme.test","tls":"maybe"}}})")
                   .starts_with("delivery.email.tls"));
    BOOST_TEST(load(R"({"delivery":{"email":{"mode":"carrier-pigeon"}}})").starts_with("delivery.email.mode"));
    BOOST_TEST(load(R"({"delivery":{"email":{"hots":"x"}}})").starts_with("delivery.email.hots"));
    BOOST_TEST(load(R"({"delivery":{"sms":{"mode":"twilio","account_sid":"AC1","from":"+15005550006"}}})")
                   .starts_with("delivery.sms.auth_token"));
    BOOST_TEST(load(R"({"delivery":{"templates":{"verification_code":{"subject":"a\nb"}}}})")
                   .starts_with("delivery.templates.verification_code.subject"));
    BOOST_TEST(load(R"({"webhooks":[{"url":"http://127.0.0.1:9/h","secret":"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}]})")
                   .starts_with("webhooks[0].secret"));
    BOOST_TEST(load(R"({"webhooks":[{"url":"ftp://x/h","secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}]})")
                   .starts_with("webhooks[0].url"));
    BOOST_TEST(
        load(
            R"({"webhooks":[{"url":"http://x/h","secret":["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],"events":["user.created"]}]})") ==
        "");
    // A password from a file or the environment.
    tmp_dir dir;
    {
        std::FILE* f = std::fopen((dir.path + "/pw").c_str(), "w");
        std::fputs("s3cret\n", f);
        std::fclose(f);
        std::FILE* cfg = std::fopen((dir.path + "/c.json").c_str(), "w");
        std::fputs(R"({"delivery":{"email":{"mode":"smtp","host":"h","from":"a@b.c","password_file":")", cfg);
        std::fputs((dir.path + "/pw\"}}}").c_str(), cfg);
        std::fclose(cfg);
    }
    auto c = conf::load({"--config", dir.path + "/c.json"}, [](std::string_view) { return std::nullopt; });
    BOOST_TEST_REQUIRE(c.has_value());
    BOOST_TEST(c->delivery.email.password == "s3cret");
    {
        std::FILE* cfg = std::fopen((dir.path + "/e.json").c_str(), "w");
        std::fputs(R"({"delivery":{"email":{"mode":"smtp","host":"h","from":"a@b.c","password_env":"SMTP_PW"}}})", cfg);
        std::fclose(cfg);
    }
    auto from_env =
        conf::load({"--config", dir.path + "/e.json"}, [](std::string_view n) -> std::optional<std::string> {
            if (n == "SMTP_PW") return std::string("from-env");
            return std::nullopt;
        });
    BOOST_TEST_REQUIRE(from_env.has_value());
    BOOST_TEST(from_env->delivery.email.password == "from-env");
    auto unset = conf::load({"--config", dir.path + "/e.json"}, [](std::string_view) { return std::nullopt; });
    BOOST_TEST_REQUIRE(!unset.has_value());
    BOOST_TEST(unset.error().setting == "delivery.email.password_env");
}

BOOST_AUTO_TEST_CASE(webhooks_are_enqueued_in_the_txn_of_the_change_and_a_refused_change_enqueues_none) {
    test_server s(unreachable_delivery);
    auto b = bapi_client(s);
    auto u = create_user(b, json::object{{"email_address", json::array{"hook@example.com"}},
                                         {"password", "correct horse battery staple"}});
    auto const id = str(u.at("id"));
    auto hooks = jobs_of(s, "webhook");
    BOOST_TEST_REQUIRE(hooks.size() == 1u);
    auto ev = envelope_of(hooks[0]);
    BOOST_TEST(str(ev.at("type")) == "user.created");
    BOOST_TEST(str(ev.at("object")) == "event");
    BOOST_TEST(str(ev.at("instance_id")) == s.inst().id);
    BOOST_TEST(str(ev.at("data").at("id")) == id);
    BOOST_TEST(str(ev.at("data").at("object")) == "user");
    BOOST_TEST(ev.at("timestamp").is_int64());
    BOOST_TEST(str(json::parse(hooks[0].payload).at("msg_id")).starts_with("msg_"));
    // The queue shows on /metrics (the endpoint is down: the job waits for its retry).
    auto m = b.request(http::verb::get, "/metrics", {}, {{"Authorization", "Bearer " + s.secret_key()}});
    BOOST_TEST_REQUIRE(m.status == 200u);
    BOOST_TEST(m.body.find("\nlatchkey_delivery_queue_pending 1\n") != std::string::npos, m.body);
    BOOST_TEST(m.body.find("\nlatchkey_delivery_queue_dead 0\n") != std::string::npos);

    // The same address again: 422, the txn aborts, and no event goes out.
    auto dup = b.bapi(http::verb::post, "/v1/users", json::object{{"email_address", json::array{"hook@example.com"}}});
    BOOST_TEST(dup.status == 422u);
    BOOST_TEST(jobs_of(s, "webhook").size() == 1u);

    auto upd = b.bapi(http::verb::patch, "/v1/users/" + id, json::object{{"first_name", "Ada"}});
    BOOST_TEST(upd.status == 200u);
    auto del = b.bapi(http::verb::delete_, "/v1/users/" + id);
    BOOST_TEST(del.status == 200u);
    std::vector<std::string> types;
    for (auto const& j : jobs_of(s, "webhook")) types.push_back(str(envelope_of(j).at("type")));
    std::sort(types.begin(), types.end());  // ids made in one millisecond need not sort by time
    BOOST_TEST((types == std::vector<std::string>{"user.created", "user.deleted", "user.updated"}));
    json::object deleted;
    for (auto const& j : jobs_of(s, "webhook"))
        if (str(envelope_of(j).at("type")) == "user.deleted") deleted = envelope_of(j);
    BOOST_TEST(deleted.at("data").at("deleted").as_bool());
    BOOST_TEST(str(deleted.at("data").at("id")) == id);
}

BOOST_AUTO_TEST_CASE(waitlist_entries_send_their_events_and_an_invitation_is_queued_as_email) {
    test_server s(unreachable_delivery);
    auto b = bapi_client(s);
    auto created = b.bapi(http::verb::post, "/v1/waitlist_entries",
                          json::object{{"email_address", "queue@example.com"}, {"notify", false}});
    BOOST_TEST_REQUIRE(created.status == 200u);
    auto const id = str(created.json.at("id"));
    auto types = [&] {
        std::vector<std::string> out;
        for (auto const& j : jobs_of(s, "webhook")) out.push_back(str(envelope_of(j).at("type")));
        std::sort(out.begin(), out.end());
        return out;
    };
    BOOST_TEST((types() == std::vector<std::string>{"waitlistEntry.created"}));
    auto ev = envelope_of(jobs_of(s, "webhook")[0]);
    BOOST_TEST(str(ev.at("data").at("object")) == "waitlist_entry");
    BOOST_TEST(str(ev.at("data").at("id")) == id);

    // A repeat join changes nothing and sends nothing.
    BOOST_TEST(b.bapi(http::verb::post, "/v1/waitlist_entries",
                      json::object{{"email_address", "queue@example.com"}, {"notify", false}})
                   .status == 200u);
    BOOST_TEST(types().size() == 1u);

    // The invitation: waitlistEntry.updated, and in smtp mode the invitation email is a job of the same txn
    // carrying the ticket link (never the outbox).
    BOOST_TEST_REQUIRE(b.bapi(http::verb::post, "/v1/waitlist_entries/" + id + "/invite").status == 200u);
    BOOST_TEST((types() == std::vector<std::string>{"waitlistEntry.created", "waitlistEntry.updated"}));
    auto mails = jobs_of(s, "email");
    BOOST_TEST_REQUIRE(mails.size() == 1u);
    auto p = json::parse(mails[0].payload).as_object();
    BOOST_TEST(str(p.at("to")) == "queue@example.com");
    BOOST_TEST(str(p.at("kind")) == "waitlist_invitation");
    BOOST_TEST(str(p.at("text")).find("__clerk_ticket=" + id) != std::string::npos);
    BOOST_TEST(s.outbox().empty());

    BOOST_TEST_REQUIRE(b.bapi(http::verb::post, "/v1/waitlist_entries/" + id + "/reject").status == 200u);
    BOOST_TEST((types() ==
                std::vector<std::string>{"waitlistEntry.created", "waitlistEntry.updated", "waitlistEntry.updated"}));
}

BOOST_AUTO_TEST_CASE(smtp_mode_queues_the_code_with_the_sign_up_and_never_waits_for_the_server) {
    test_server s([](conf::config& c) {
        unreachable_delivery(c);
        c.test_mode = false;
        c.application_name = "Acme";
    });
    http_client c(s.fapi_port());
    auto t0 = std::chrono::steady_clock::now();
    auto created = c.fapi("POST", "/v1/client/sign_ups",
                          {{"email_address", "queued@example.com"}, {"password", "correct horse battery staple"}});
    BOOST_TEST_REQUIRE(created.status == 200u, created.body);
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < std::chrono::seconds(3)));
    BOOST_TEST(s.outbox().empty());  // smtp mode: nothing in the development outbox
    auto mails = jobs_of(s, "email");
    BOOST_TEST_REQUIRE(mails.size() == 1u);
    auto p = json::parse(mails[0].payload).as_object();
    BOOST_TEST(str(p.at("to")) == "queued@example.com");
    BOOST_TEST(str(p.at("kind")) == "email_code");
    BOOST_TEST(str(p.at("subject")).ends_with(" is your Acme verification code"));
    auto const code = str(p.at("subject")).substr(0, 6);
    BOOST_TEST(str(p.at("text")).find("Your Acme verification code is " + code + ".") != std::string::npos);
    // The queued code is the one the sign-up accepts.
    auto id = str(response(created).at("id"));
    auto done = c.fapi("POST", "/v1/client/sign_ups/" + id + "/attempt_verification",
                       {{"strategy", "email_code"}, {"code", code}});
    BOOST_TEST(done.status == 200u, done.body);
    BOOST_TEST(str(response(done).at("status")) == "complete");
    // email.created, user.created and session.created went to the webhook queue with it.
    std::vector<std::string> types;
    for (auto const& j : jobs_of(s, "webhook")) types.push_back(str(envelope_of(j).at("type")));
    std::sort(types.begin(), types.end());
    BOOST_TEST((types == std::vector<std::string>{"email.created", "session.created", "user.created"}));
    json::object email_ev;
    for (auto const& j : jobs_of(s, "webhook"))
        if (str(envelope_of(j).at("type")) == "email.created") email_ev = envelope_of(j);
    BOOST_TEST(str(email_ev.at("data").at("to_email_address")) == "queued@example.com");
    BOOST_TEST(str(email_ev.at("data").at("object")) == "email");
    // The worker is trying (port 1 refuses) and reschedules: the jobs stay, none is lost.
    auto const deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    // (the claim counts the attempt; the failure is recorded after the attempt)
    while (jobs_of(s, "email")[0].last_error.empty() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto again = jobs_of(s, "email");
    BOOST_TEST_REQUIRE(again.size() == 1u);
    BOOST_TEST(again[0].attempts >= 1);
    BOOST_TEST(again[0].last_error.find("smtp") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_cr_lf_in_an_email_address_is_a_422_and_queues_nothing) {
    test_server s([](conf::config& c) {
        unreachable_delivery(c);
        c.test_mode = false;
    });
    http_client c(s.fapi_port());
    for (auto bad :
         {"victim@example.com\r\nBcc: all@example.com", "victim@example.com\nBcc: x@y.z", "a\r@example.com"}) {
        auto r = c.fapi("POST", "/v1/client/sign_ups",
                        {{"email_address", bad}, {"password", "correct horse battery staple"}});
        expect_error(r, 422, "form_param_format_invalid", "email_address");
    }
    BOOST_TEST(jobs_of(s, "email").empty());
}

BOOST_AUTO_TEST_SUITE_END()
