// `latchkey import` / `latchkey export` on the real binary beside a running server on the same data dir: Clerk
// Dashboard CSVs and CLI JSON made here, a FAPI sign-in with the original password for every hasher, ids kept
// (BAPI GET /v1/users/{id}), re-runs changing nothing, every bad-input case reported by line, a kill -9 in the
// middle resumed, and a BAPI-to-BAPI import between two running instances compared field by field.
#include "crypto/totp.hpp"
#include "server/api/domain/mfa.hpp"
#include "server/instance.hpp"
#include "store/lmdb/open.hpp"
#include "tests/common/password_vectors.hpp"
#include "tests/common/scripted_http.hpp"
#include "tests/common/server_fixture.hpp"
#include "tests/common/spawn.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

using namespace latchkey;
using namespace latchkey::test;
using namespace std::chrono_literals;

namespace {

using verb = http::verb;

/// An identification's verification status as the BAPI shows it (no verification: "unverified").
json::value status_of(json::value const& idn) {
    auto const& v = idn.at("verification");
    return v.is_null() ? json::value("unverified") : v.at("status");
}

constexpr char const* secret = "sk_test_importimportimport00001";
constexpr char const* header =
    "id,first_name,last_name,username,primary_email_address,primary_phone_number,verified_email_addresses,"
    "unverified_email_addresses,verified_phone_numbers,unverified_phone_numbers,totp_secret,password_digest,"
    "password_hasher";

std::string binary() {
    char const* bin = std::getenv("LATCHKEY_BIN");
    BOOST_TEST_REQUIRE(bin != nullptr, "LATCHKEY_BIN must point at the latchkey binary");
    return bin;
}

void write_file(std::string const& path, std::string const& text) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << text;
}

std::string read_file(std::string const& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

/// Starts the binary with `args` (stdout/stderr to files in `dir`); returns its pid.
pid_t start(std::vector<std::string> args, std::string const& out_path) {
    pid_t const pid = spawn_binary(std::move(args), {}, out_path, out_path + ".err");
    BOOST_TEST_REQUIRE(pid > 0);
    return pid;
}

/// Runs the binary to completion (bounded: 120 s); returns its exit code.
int run(std::vector<std::string> args, std::string const& out_path) {
    pid_t const pid = start(std::move(args), out_path);
    auto const deadline = std::chrono::steady_clock::now() + 120s;
    int st = 0;
    while (::waitpid(pid, &st, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &st, 0);
            return -1;
        }
        std::this_thread::sleep_for(20ms);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/// The JSON report the import printed as its last stdout line.
json::object report_of(std::string const& out_path) {
    std::istringstream in(read_file(out_path));
    std::string line, last;
    while (std::getline(in, line))
        if (!line.empty()) last = line;
    return json::parse(last).as_object();
}

/// A running server on `dir`, killed (SIGKILL) and reaped when the scope ends.
struct server_proc {
    spawned_server s;
    explicit server_proc(std::string const& dir, std::vector<std::string> const& args = {})
        : s(spawn_server(
              binary(), dir, args,
              {std::string("LATCHKEY_SECRET_KEY=") + secret, "LATCHKEY_ACCESS_LOG=false", "LATCHKEY_THREADS=2"})) {}
    ~server_proc() {
        if (s.pid > 0) {
            ::kill(s.pid, SIGKILL);
            ::waitpid(s.pid, nullptr, 0);
        }
    }
    server_proc(server_proc const&) = delete;
    server_proc& operator=(server_proc const&) = delete;
    http_client bapi() const {
        http_client b(s.bapi);
        b.secret_key = secret;
        return b;
    }
    bool sign_in(std::string const& who, std::string const& pw) const {
        http_client c(s.fapi);
        auto r =
            c.fapi("POST", "/v1/client/sign_ins", {{"identifier", who}, {"strategy", "password"}, {"password", pw}});
        return r.status == 200u && response(r).at("status") == "complete";
    }
};

/// One digest per hasher, each imported as a user of its own.
constexpr auto const& digests = published_digests;

std::string csv_quote(std::string const& v) {
    if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
    std::string out = "\"";
    for (char c : v) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

std::string user_id(std::size_t i) { return "user_2Imp" + std::to_string(1000000 + i); }

json::value get_user(server_proc const& p, std::string const& id) {
    auto r = p.bapi().bapi(verb::get, "/v1/users/" + id);
    return r.status == 200u ? r.json : json::value(nullptr);
}

std::size_t user_count(server_proc const& p) {
    auto r = p.bapi().bapi(verb::get, "/v1/users/count");
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    return static_cast<std::size_t>(r.json.at("total_count").as_int64());
}

/// The binary and a temporary directory: `dir` for a data dir and `out` for a command's output, both in it.
struct import_env {
    std::string const bin = binary();
    tmp_dir data;
    std::string const dir = data.path + "/d";
    std::string const out = data.path + "/out";
};

}  // namespace

BOOST_AUTO_TEST_SUITE(import)

BOOST_FIXTURE_TEST_CASE(a_source_api_that_rate_limits_fails_or_answers_garbage, import_env) {
    std::string const page =
        R"([{"id":"user_2Src1","email_addresses":[{"id":"idn_2Src1","email_address":"s1@example.com",)"
        R"("verification":{"status":"verified"}}],"primary_email_address_id":"idn_2Src1"},)"
        R"({"id":"user_2Src2","email_addresses":[{"id":"idn_2Src2","email_address":"s2@example.com",)"
        R"("verification":null}],"banned":true}])";
    {
        // 429 (wait 1 s), one 500 and one garbage answer (both retried), then the users (a short page: the end);
        // then the organizations, which this source does not have (404: none, not an error).
        scripted_source src({http_answer("429 Too Many Requests", R"({"errors":[]})", "Retry-After: 1\r\n"),
                             http_answer("500 Internal Server Error", "{}"), http_answer("200 OK", "<html>oops</html>"),
                             http_answer("200 OK", page), http_answer("404 Not Found", R"({"errors":[]})")});
        auto const t0 = std::chrono::steady_clock::now();
        BOOST_TEST(run({bin, "import", "http://127.0.0.1:" + std::to_string(src.port()), "--secret-key", secret,
                        "--data-dir", dir},
                       out) == 0,
                   read_file(out + ".err"));
        BOOST_TEST((std::chrono::steady_clock::now() - t0 >= 1s));  // Retry-After honoured
        auto const reqs = src.requests();
        BOOST_TEST_REQUIRE(reqs.size() == 5u);
        for (std::size_t i = 0; i < 4; ++i)  // the same page asked again each time
            BOOST_TEST(reqs[i] == "GET /v1/users?order_by=%2Bcreated_at&limit=100&offset=0 HTTP/1.1");
        BOOST_TEST(reqs[4] == "GET /v1/organizations?order_by=%2Bcreated_at&limit=100&offset=0 HTTP/1.1");
        BOOST_TEST(read_file(out + ".err").find("no organizations") != std::string::npos);
        BOOST_TEST(read_file(out + ".err").find("429") != std::string::npos);
    }
    auto report = report_of(out);
    BOOST_TEST(report.at("imported") == 2);
    server_proc srv(dir);
    auto u2 = get_user(srv, "user_2Src2");
    BOOST_TEST_REQUIRE(u2.is_object());
    BOOST_TEST(u2.at("banned") == true);
    BOOST_TEST(u2.at("email_addresses").as_array()[0].at("id") == "idn_2Src2");
    BOOST_TEST(status_of(u2.at("email_addresses").as_array()[0]) == "unverified");

    // An API that only fails: the import stops after its retries, says why, exits 2, and wrote nothing new.
    scripted_source down({http_answer("500 Internal Server Error", "{}")});
    BOOST_TEST(run({bin, "import", "http://127.0.0.1:" + std::to_string(down.port()), "--secret-key", secret,
                    "--data-dir", dir},
                   out) == 2);
    BOOST_TEST(read_file(out + ".err").find("answered 500") != std::string::npos);
    BOOST_TEST(user_count(srv) == 2u);
}

BOOST_FIXTURE_TEST_CASE(clerk_csv_every_hasher_signs_in_with_the_original_password_and_keeps_ids, import_env) {
    server_proc srv(dir);
    std::string csv = "\xEF\xBB\xBF" + std::string(header) + "\r\n";  // as Excel saves it: BOM and CRLF
    for (std::size_t i = 0; i < std::size(digests); ++i) {
        std::string const email = std::string(digests[i].hasher) + "@example.com";
        csv += user_id(i) + ",First" + std::to_string(i) + ",\"Last, " + std::to_string(i) + "\",," + email + ",," +
               email + "|alias" + std::to_string(i) + "@example.com,old" + std::to_string(i) + "@example.com,,,," +
               csv_quote(std::string(digests[i].digest)) + "," + std::string(digests[i].hasher) + "\r\n";
    }
    // A user with phones (primary among the verified) and no password.
    csv += "user_2ImpPhones,Pat,,pat,,+15555550101,,,+15555550100|+15555550101,+15555550199,,,\r\n";
    // A user with an authenticator app (RFC 6238's test key "12345678901234567890" in base32, lower case).
    // Her password comes along as a bcrypt digest (Openwall's vector: password "U*U").
    csv +=
        "user_2ImpTotp,Tia,,,tia@example.com,,tia@example.com,,,,gezdgnbvgy3tqojqgezdgnbvgy3tqojq,"
        "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW,bcrypt\r\n";
    std::string const in = data.path + "/users.csv";
    write_file(in, csv);
    std::string const rep = data.path + "/report.json";

    BOOST_TEST_REQUIRE(run({bin, "import", in, "--data-dir", dir, "--report", rep}, out) == 0, read_file(out + ".err"));
    auto report = json::parse(read_file(rep)).as_object();
    BOOST_TEST(report.at("format") == "clerk-csv");  // detected
    BOOST_TEST(report.at("imported") == std::size(digests) + 2);
    BOOST_TEST(report.at("failed") == 0);

    // The TOTP secret is enrolled: the user has a verified second factor, and the code an authenticator app shows
    // for that secret now is the one the stored (sealed) secret accepts.
    auto tia = get_user(srv, "user_2ImpTotp");
    BOOST_TEST_REQUIRE(tia.is_object());
    BOOST_TEST(tia.at("totp_enabled") == true);
    BOOST_TEST(tia.at("two_factor_enabled") == true);
    {
        store::lmdb::options so;
        so.dir = dir + "/db";
        auto db = store::lmdb::open(so);
        BOOST_TEST_REQUIRE(db.has_value());
        auto u = (*db)->with_read([](store::read_txn const& t) { return t.users().get("user_2ImpTotp"); });
        BOOST_TEST_REQUIRE((u && *u));
        auto const key = server::load_seal_key(dir);
        auto const now =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        auto const code = crypto::totp("12345678901234567890", now / 1000);
        auto copy = **u;
        BOOST_TEST(!server::api::domain::check_totp(copy, key, code == "000000" ? "000001" : "000000", now));
        BOOST_TEST(server::api::domain::check_totp(copy, key, code, now));
    }
    {
        // A FAPI sign-in on an instance that offers TOTP: her password, then the code her authenticator app shows.
        std::string const cfg = data.path + "/totp.json";
        write_file(cfg, R"({"second_factors":["totp"]})");
        server_proc totp_srv(dir, {"--config", cfg});
        http_client c(totp_srv.s.fapi);
        auto r = c.fapi("POST", "/v1/client/sign_ins",
                        {{"identifier", "tia@example.com"}, {"strategy", "password"}, {"password", "U*U"}});
        BOOST_TEST_REQUIRE(r.status == 200u, r.body);
        BOOST_TEST_REQUIRE(response(r).at("status") == "needs_second_factor", r.body);
        auto const id = str(response(r).at("id"));
        auto const now =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        auto const code = crypto::totp("12345678901234567890", now / 1000);
        auto wrong = c.fapi("POST", "/v1/client/sign_ins/" + id + "/attempt_second_factor",
                            {{"strategy", "totp"}, {"code", code == "000000" ? "000001" : "000000"}});
        BOOST_TEST(wrong.status == 422u, wrong.body);
        auto done = c.fapi("POST", "/v1/client/sign_ins/" + id + "/attempt_second_factor",
                           {{"strategy", "totp"}, {"code", code}});
        BOOST_TEST_REQUIRE(done.status == 200u, done.body);
        BOOST_TEST(response(done).at("status") == "complete", done.body);
    }

    for (std::size_t i = 0; i < std::size(digests); ++i) {
        BOOST_TEST_CONTEXT(digests[i].hasher) {
            std::string const email = std::string(digests[i].hasher) + "@example.com";
            // The running server sees the import at once; the original password works, another does not.
            BOOST_TEST(!srv.sign_in(email, std::string(digests[i].password) + "x"));
            BOOST_TEST(srv.sign_in(email, std::string(digests[i].password)));
            BOOST_TEST(srv.sign_in("alias" + std::to_string(i) + "@example.com", std::string(digests[i].password)));
            auto u = get_user(srv, user_id(i));
            BOOST_TEST_REQUIRE(u.is_object());
            BOOST_TEST(u.at("id") == json::value(user_id(i)));
            BOOST_TEST(u.at("last_name") == json::value("Last, " + std::to_string(i)));
            auto const& emails = u.at("email_addresses").as_array();
            BOOST_TEST_REQUIRE(emails.size() == 3u);
            for (auto const& e : emails) {
                bool const old = e.at("email_address") == json::value("old" + std::to_string(i) + "@example.com");
                BOOST_TEST(status_of(e) == (old ? "unverified" : "verified"));
                if (e.at("email_address") == json::value(email))
                    BOOST_TEST(u.at("primary_email_address_id") == e.at("id"));
            }
            // An unverified address is no sign-in identifier.
            BOOST_TEST(!srv.sign_in("old" + std::to_string(i) + "@example.com", std::string(digests[i].password)));
        }
    }
    auto pat = get_user(srv, "user_2ImpPhones");
    BOOST_TEST_REQUIRE(pat.is_object());
    BOOST_TEST(pat.at("username") == "pat");
    BOOST_TEST(pat.at("phone_numbers").as_array().size() == 3u);
    for (auto const& p : pat.at("phone_numbers").as_array()) {
        BOOST_TEST(status_of(p) == (p.at("phone_number") == "+15555550199" ? "unverified" : "verified"));
        if (p.at("phone_number") == "+15555550101") BOOST_TEST(pat.at("primary_phone_number_id") == p.at("id"));
    }

    // Re-running the same import changes nothing: every row is unchanged, and the digests re-hashed at those
    // sign-ins stay re-hashed (export shows the instance's own hasher for a former md5 user).
    BOOST_TEST(run({bin, "import", in, "--data-dir", dir}, out) == 0);
    auto again = report_of(out);
    BOOST_TEST(again.at("imported") == 0);
    BOOST_TEST(again.at("unchanged") == std::size(digests) + 2);
    std::string const exported = data.path + "/export.csv";
    BOOST_TEST_REQUIRE(
        run({bin, "export", "--format", "clerk-csv", "--include-secrets", "--out", exported, "--data-dir", dir}, out) ==
        0);
    struct stat st {};
    BOOST_TEST(::stat(exported.c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0600u);
    auto const text = read_file(exported);
    BOOST_TEST(text.starts_with(std::string(header) + "\r\n"));
    auto const md5_line =
        text.substr(text.find(user_id(0)), text.find("\r\n", text.find(user_id(0))) - text.find(user_id(0)));
    BOOST_TEST(md5_line.ends_with(",argon2id"), md5_line);
    BOOST_TEST(md5_line.find("md5@example.com|alias0@example.com,old0@example.com") != std::string::npos, md5_line);
    // Without --include-secrets no digest leaves.
    BOOST_TEST_REQUIRE(run({bin, "export", "--format", "clerk-csv", "--data-dir", dir}, out) == 0);
    BOOST_TEST(read_file(out).find("$argon2") == std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(clerk_json_fields_and_a_dry_run_that_writes_nothing, import_env) {
    server_proc srv(dir);
    json::array users;
    users.push_back(json::object{
        {"id", "user_2JsonAda"},
        {"first_name", "Ada"},
        {"last_name", "Lovelace"},
        {"username", "ada"},
        {"email_addresses", json::array{json::object{{"id", "idn_2JsonAdaMail"},
                                                     {"email_address", "ada@example.com"},
                                                     {"verification", json::object{{"status", "verified"}}}},
                                        json::object{{"id", "idn_2JsonAdaOld"},
                                                     {"email_address", "ada.old@example.com"},
                                                     {"verification", json::object{{"status", "unverified"}}}}}},
        {"primary_email_address_id", "idn_2JsonAdaMail"},
        {"public_metadata", json::object{{"plan", "pro"}}},
        {"private_metadata", json::object{{"stripe", "cus_1"}}},
        {"unsafe_metadata", json::object{{"theme", "dark"}}},
        {"banned", true},
        {"legal_accepted_at", "2023-05-06T07:08:09.123Z"},
        {"created_at", 1600000000000},
    });
    users.push_back(json::object{{"id", "user_2JsonBob"},
                                 {"email_addresses", json::array{"bob@example.com"}},
                                 {"created_at", "2021-01-02T03:04:05Z"}});
    std::string const in = data.path + "/users.json";
    write_file(in, json::serialize(users));

    BOOST_TEST(run({bin, "import", in, "--dry-run", "--data-dir", dir}, out) == 0, read_file(out + ".err"));
    auto dry = report_of(out);
    BOOST_TEST(dry.at("dry_run") == true);
    BOOST_TEST(dry.at("would_import") == 2);
    BOOST_TEST(get_user(srv, "user_2JsonAda").is_null());
    BOOST_TEST(user_count(srv) == 0u);

    BOOST_TEST(run({bin, "import", in, "--format", "clerk-json", "--data-dir", dir}, out) == 0,
               read_file(out + ".err"));
    auto ada = get_user(srv, "user_2JsonAda");
    BOOST_TEST_REQUIRE(ada.is_object());
    BOOST_TEST(ada.at("username") == "ada");
    BOOST_TEST(ada.at("primary_email_address_id") == "idn_2JsonAdaMail");
    BOOST_TEST(ada.at("email_addresses").as_array().size() == 2u);
    BOOST_TEST(ada.at("email_addresses").as_array()[1].at("id") == "idn_2JsonAdaOld");
    BOOST_TEST(status_of(ada.at("email_addresses").as_array()[1]) == "unverified");
    BOOST_TEST(ada.at("public_metadata").at("plan") == "pro");
    BOOST_TEST(ada.at("private_metadata").at("stripe") == "cus_1");
    BOOST_TEST(ada.at("unsafe_metadata").at("theme") == "dark");
    BOOST_TEST(ada.at("banned") == true);
    BOOST_TEST(ada.at("legal_accepted_at") == 1683356889123);
    BOOST_TEST(ada.at("created_at") == 1600000000000);
    auto bob = get_user(srv, "user_2JsonBob");
    BOOST_TEST_REQUIRE(bob.is_object());
    BOOST_TEST(bob.at("created_at") == 1609556645000);

    // Export as Clerk's JSON and import into a fresh data dir: the same users.
    std::string const exported = data.path + "/export.json";
    BOOST_TEST_REQUIRE(run({bin, "export", "--format", "clerk-json", "--out", exported, "--data-dir", dir}, out) == 0);
    std::string const dir2 = data.path + "/d2";
    BOOST_TEST(run({bin, "import", exported, "--data-dir", dir2}, out) == 0, read_file(out + ".err"));
    BOOST_TEST(report_of(out).at("imported") == 2);
}

BOOST_FIXTURE_TEST_CASE(bad_input_is_reported_by_line_and_the_good_rows_still_go_in, import_env) {
    server_proc srv(dir);
    std::string const in = data.path + "/bad.csv";
    // Someone already here with the address a row brings under another id.
    write_file(in, std::string(header) + "\nuser_2Existing,,,,taken@example.com,,taken@example.com,,,,,,\n");
    BOOST_TEST_REQUIRE(run({bin, "import", in, "--data-dir", dir}, out) == 0);

    std::string csv = std::string(header) + "\n";
    csv += "user_2Good1,Good,,,good1@example.com,,good1@example.com,,,,,3cb4e732631f47e6eb961f34554b7cde,md5\n";  // 2
    csv += "user_2Extra,,,,x@example.com,,x@example.com,,,,,,,extra\n";                                           // 3
    csv += "user_2Hasher,,,,h@example.com,,h@example.com,,,,,abc,rot13\n";                                        // 4
    csv += "user_2Digest,,,,d@example.com,,d@example.com,,,,,$2a$05$short,bcrypt\n";                              // 5
    csv += "not_a_user_id,,,,i@example.com,,i@example.com,,,,,,\n";                                               // 6
    csv += "user_2Good1,,,,dup@example.com,,dup@example.com,,,,,,\n";                                             // 7
    csv += "user_2Email,,,,not-an-email,,not-an-email,,,,,,\n";                                                   // 8
    csv += "user_2Phone,,,,,12,,,12,,,,\n";                                                                       // 9
    csv += "user_2Taken,,,,taken@example.com,,taken@example.com,,,,,,\n";                                         // 10
    csv += "user_2Totp,,,,t@example.com,,t@example.com,,,,not base32!,,\n";                                       // 11
    csv += "user_2Stray,Mc\"Quote,,,s@example.com,,s@example.com,,,,,,\n";                                        // 12
    csv += "user_2Big," + std::string(100u << 20, 'a') + ",,,big@example.com,,big@example.com,,,,,,\n";           // 13
    csv += "user_2Good2,\"Two\nLines\",,,good2@example.com,,good2@example.com,,,,,,\n";  // 14-15
    csv += "user_2Open,\"never closed,,,o@example.com,,,,,,,,\n";                        // 16
    write_file(in, csv);
    std::string const rep = data.path + "/report.json";
    // The server keeps answering while the import reads 100 MB.
    pid_t const pid = start({bin, "import", in, "--data-dir", dir, "--report", rep}, out);
    int answered = 0;
    int st = 0;
    auto const deadline = std::chrono::steady_clock::now() + 120s;
    while (::waitpid(pid, &st, WNOHANG) == 0 && std::chrono::steady_clock::now() < deadline) {
        if (srv.bapi().bapi(verb::get, "/v1/users/count").status == 200u) ++answered;
        std::this_thread::sleep_for(20ms);
    }
    BOOST_TEST_REQUIRE(WIFEXITED(st));
    BOOST_TEST(WEXITSTATUS(st) == 1);  // some rows failed
    BOOST_TEST(answered > 0);
    auto report = json::parse(read_file(rep)).as_object();
    BOOST_TEST(report.at("imported") == 2);
    std::map<std::int64_t, std::string> by_line;
    for (auto const& p : report.at("problems").as_array())
        by_line[p.at("line").as_int64()] =
            std::string(p.at("status").as_string()) + ": " + std::string(p.at("reason").as_string());
    auto has = [&](std::int64_t line, std::string const& part) {
        BOOST_TEST_CONTEXT("line " << line << ": " << by_line[line]) {
            BOOST_TEST(by_line[line].find(part) != std::string::npos);
        }
    };
    has(3, "expected 13 fields, found 14");
    has(4, "unknown password_hasher 'rot13'");
    has(5, "not a valid bcrypt digest");
    has(6, "invalid user id");
    has(7, "duplicate id: the same user is on line 2");
    has(8, "invalid email address");
    has(9, "invalid phone number");
    has(10, "conflict: exists as user_2Existing with the same verified email address taken@example.com; not merged");
    has(11, "totp_secret is not a base32 secret");
    has(12, "a quote inside an unquoted field");
    has(13, "longer than 1048576 bytes");
    has(16, "unbalanced quote");
    BOOST_TEST(by_line.count(2) == 0u);
    BOOST_TEST(by_line.count(14) == 0u);
    BOOST_TEST(report.at("failed") == 11);
    BOOST_TEST(report.at("conflicts") == 1);
    BOOST_TEST(srv.sign_in("good1@example.com", "correct horse"));
    BOOST_TEST(get_user(srv, "user_2Good2").at("first_name") == "Two\nLines");
    BOOST_TEST(get_user(srv, "user_2Taken").is_null());  // nothing half-written
    BOOST_TEST(user_count(srv) == 3u);

    // A wrong header is refused as a whole (exit 2); so is a missing file.
    write_file(in, "name,email\nSomebody,somebody@example.com\n");
    BOOST_TEST(run({bin, "import", in, "--format", "clerk-csv", "--data-dir", dir}, out) == 2);
    BOOST_TEST(read_file(out + ".err").find("unknown column 'name'") != std::string::npos);
    BOOST_TEST(run({bin, "import", in + ".missing", "--data-dir", dir}, out) == 2);
    // JSON: non-object metadata and a non-object row.
    write_file(in, R"([{"id":"user_2Meta","email_addresses":["m@example.com"],"public_metadata":[1]},7,)"
                   R"({"id":"user_2MetaOk","email_addresses":["mo@example.com"]}])");
    BOOST_TEST(run({bin, "import", in, "--data-dir", dir}, out) == 1);
    auto j = report_of(out);
    BOOST_TEST(j.at("imported") == 1);
    BOOST_TEST(j.at("problems").as_array()[0].at("reason") == "public_metadata must be an object");
    BOOST_TEST(j.at("problems").as_array()[1].at("reason") == "not a JSON object");
    BOOST_TEST(user_count(srv) == 4u);
}

BOOST_FIXTURE_TEST_CASE(kill_9_in_the_middle_then_the_same_import_resumes, import_env) {
    std::string const in = data.path + "/many.csv";
    constexpr std::size_t n = 20000;
    std::string csv = std::string(header) + "\n";
    for (std::size_t i = 0; i < n; ++i) {
        auto const id = user_id(i);
        csv += id + ",,,," + id + "@example.com,," + id +
               "@example.com,,,,,$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW,bcrypt\n";
    }
    write_file(in, csv);
    pid_t const pid = start({bin, "import", in, "--batch", "200", "--data-dir", dir}, out);
    // Kill it once some batches are committed (the progress lines say how far it got).
    auto const deadline = std::chrono::steady_clock::now() + 60s;
    bool killed = false;
    while (std::chrono::steady_clock::now() < deadline) {
        int st = 0;
        if (::waitpid(pid, &st, WNOHANG) != 0) break;
        if (::access((dir + "/db/data.mdb").c_str(), F_OK) == 0) {
            struct stat s {};
            ::stat((dir + "/db/data.mdb").c_str(), &s);
            if (s.st_size > (2 << 20)) {
                ::kill(pid, SIGKILL);
                ::waitpid(pid, nullptr, 0);
                killed = true;
                break;
            }
        }
        std::this_thread::sleep_for(5ms);
    }
    BOOST_TEST_REQUIRE(killed, "the import finished before it could be killed");
    server_proc srv(dir);
    std::size_t const landed = user_count(srv);
    BOOST_TEST(landed < n);
    BOOST_TEST(landed % 200 == 0u);  // whole batches only: nothing half-written

    BOOST_TEST(run({bin, "import", in, "--batch", "200", "--data-dir", dir}, out) == 0, read_file(out + ".err"));
    auto report = report_of(out);
    BOOST_TEST(report.at("unchanged") == landed);
    BOOST_TEST(report.at("imported") == n - landed);
    BOOST_TEST(user_count(srv) == n);
    BOOST_TEST(srv.sign_in(user_id(n - 1) + "@example.com", "U*U"));
    BOOST_TEST(get_user(srv, user_id(0)).at("id") == json::value(user_id(0)));
}

BOOST_FIXTURE_TEST_CASE(bapi_to_bapi_between_two_running_instances, import_env) {
    std::string const dir_a = data.path + "/a";
    std::string const dir_b = data.path + "/b";
    server_proc a(dir_a);
    auto ba = a.bapi();
    for (int i = 0; i < 130; ++i) {  // more than one page of 100
        json::object body{{"email_address", json::array{"u" + std::to_string(i) + "@example.com"}},
                          {"first_name", "U" + std::to_string(i)},
                          {"public_metadata", json::object{{"n", i}}},
                          {"private_metadata", json::object{{"secret", i * 2}}}};
        if (i % 3 == 0) body["phone_number"] = json::array{"+1555555" + std::to_string(1000 + i)};
        if (i % 2 == 0) {
            body["password_digest"] = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
            body["password_hasher"] = "bcrypt";
        }
        if (i % 5 == 0) body["username"] = "user" + std::to_string(i);
        auto r = ba.bapi(verb::post, "/v1/users", body);
        BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    }
    // The digests come from A's own export (the BAPI never shows them).
    std::string const digests = data.path + "/digests.csv";
    BOOST_TEST_REQUIRE(
        run({bin, "export", "--format", "clerk-csv", "--include-secrets", "--out", digests, "--data-dir", dir_a},
            out) == 0);
    server_proc b(dir_b);
    std::string const url = "http://127.0.0.1:" + std::to_string(a.s.bapi);
    BOOST_TEST_REQUIRE(
        run({bin, "import", url, "--secret-key", secret, "--digests", digests, "--data-dir", dir_b}, out) == 0,
        read_file(out + ".err"));
    BOOST_TEST(report_of(out).at("format") == "bapi");
    BOOST_TEST(report_of(out).at("imported") == 130);

    auto list = [](server_proc const& p) {
        json::array all;
        for (int offset = 0;; offset += 100) {
            auto r =
                p.bapi().bapi(verb::get, "/v1/users?limit=100&order_by=%2Bcreated_at&offset=" + std::to_string(offset));
            BOOST_TEST_REQUIRE(r.status == 200u);
            for (auto& u : r.json.as_array()) all.push_back(u);
            if (r.json.as_array().size() < 100) break;
        }
        return all;
    };
    auto ua = list(a);
    auto ub = list(b);
    BOOST_TEST_REQUIRE(ua.size() == 130u);
    BOOST_TEST_REQUIRE(ub.size() == 130u);
    std::map<std::string, json::object> by_id;
    for (auto const& u : ub) by_id[std::string(u.at("id").as_string())] = u.as_object();
    for (auto const& u : ua) {
        auto const& x = u.as_object();
        auto it = by_id.find(std::string(x.at("id").as_string()));
        BOOST_TEST_REQUIRE((it != by_id.end()));
        auto const& y = it->second;
        BOOST_TEST_CONTEXT(x.at("id")) {
            for (auto const* f : {"first_name", "last_name", "username", "external_id", "primary_email_address_id",
                                  "primary_phone_number_id", "public_metadata", "private_metadata", "unsafe_metadata",
                                  "banned", "locked", "password_enabled", "created_at", "legal_accepted_at"}) {
                BOOST_TEST_CONTEXT(f) { BOOST_TEST(json::serialize(x.at(f)) == json::serialize(y.at(f))); }
            }
            for (auto const* list_name : {"email_addresses", "phone_numbers"}) {
                auto const& la = x.at(list_name).as_array();
                auto const& lb = y.at(list_name).as_array();
                BOOST_TEST_REQUIRE(la.size() == lb.size());
                for (std::size_t k = 0; k < la.size(); ++k) {
                    BOOST_TEST(la[k].at("id") == lb[k].at("id"));
                    char const* v = std::string_view(list_name) == "email_addresses" ? "email_address" : "phone_number";
                    BOOST_TEST(la[k].at(v) == lb[k].at(v));
                    BOOST_TEST(status_of(la[k]) == status_of(lb[k]));
                }
            }
        }
    }
    BOOST_TEST(b.sign_in("u0@example.com", "U*U"));
    // Again: nothing changes.
    BOOST_TEST(run({bin, "import", url, "--secret-key", secret, "--data-dir", dir_b}, out) == 0);
    BOOST_TEST(report_of(out).at("unchanged") == 130);
    // A refused key ends the import (exit 2, nothing read).
    BOOST_TEST(
        run({bin, "import", url, "--secret-key", "sk_test_wrongwrongwrongwrong0001", "--data-dir", dir_b}, out) == 2);
    BOOST_TEST(read_file(out + ".err").find("secret key was refused") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(bapi_import_brings_organizations_memberships_roles_and_pending_invitations, import_env) {
    std::string const dir_a = data.path + "/a";
    std::string const dir_b = data.path + "/b";
    std::string const cfg_a = data.path + "/a.json";
    std::string const cfg_b = data.path + "/b.json";
    // Both instances know the custom role org:billing; B lacks org:auditor (the import warns and keeps it).
    write_file(cfg_a, R"({"organizations":{"enabled":true,"max_allowed_memberships":0,"roles":[
        {"key":"org:billing","name":"Billing","permissions":["org:invoices:read"]},
        {"key":"org:auditor","name":"Auditor","permissions":["org:logs:read"]}]}})");
    write_file(cfg_b, R"({"organizations":{"enabled":true,"max_allowed_memberships":0,"roles":[
        {"key":"org:billing","name":"Billing","permissions":["org:invoices:read"]}]}})");
    server_proc a(dir_a, {"--config", cfg_a});
    auto ba = a.bapi();
    std::vector<std::string> users;
    for (int i = 0; i < 6; ++i) {
        auto r = ba.bapi(verb::post, "/v1/users",
                         json::object{{"email_address", json::array{"m" + std::to_string(i) + "@example.com"}},
                                      {"password", "correct horse battery " + std::to_string(i)}});
        BOOST_TEST_REQUIRE(r.status == 200u, r.body);
        users.push_back(str(r.json.at("id")));
    }
    std::vector<std::string> orgs;
    for (int k = 0; k < 3; ++k) {
        auto r = ba.bapi(verb::post, "/v1/organizations",
                         json::object{{"name", "Org " + std::to_string(k)},
                                      {"slug", "org-" + std::to_string(k)},
                                      {"created_by", users[static_cast<std::size_t>(k)]},
                                      {"public_metadata", json::object{{"tier", k}}},
                                      {"private_metadata", json::object{{"crm", "c" + std::to_string(k)}}},
                                      {"max_allowed_memberships", 10 + k}});
        BOOST_TEST_REQUIRE(r.status == 200u, r.body);
        orgs.push_back(str(r.json.at("id")));
    }
    char const* roles[] = {"org:member", "org:billing", "org:auditor"};
    for (std::size_t k = 0; k < orgs.size(); ++k)
        for (std::size_t u = 3; u < users.size(); ++u) {
            auto r = ba.bapi(verb::post, "/v1/organizations/" + orgs[k] + "/memberships",
                             json::object{{"user_id", users[u]}, {"role", roles[(k + u) % 3]}});
            BOOST_TEST_REQUIRE(r.status == 200u, r.body);
        }
    for (std::size_t k = 0; k < orgs.size(); ++k) {
        auto r = ba.bapi(verb::post, "/v1/organizations/" + orgs[k] + "/invitations",
                         json::object{{"email_address", "invitee" + std::to_string(k) + "@example.com"},
                                      {"role", "org:member"},
                                      {"inviter_user_id", users[k]},
                                      {"public_metadata", json::object{{"from", "import"}}}});
        BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    }
    // A revoked invitation stays behind: only pending ones move.
    {
        auto r = ba.bapi(
            verb::post, "/v1/organizations/" + orgs[0] + "/invitations",
            json::object{{"email_address", "gone@example.com"}, {"role", "org:member"}, {"inviter_user_id", users[0]}});
        BOOST_TEST_REQUIRE(r.status == 200u, r.body);
        auto rv =
            ba.bapi(verb::post, "/v1/organizations/" + orgs[0] + "/invitations/" + str(r.json.at("id")) + "/revoke",
                    json::object{{"requesting_user_id", users[0]}});
        BOOST_TEST_REQUIRE(rv.status == 200u, rv.body);
    }

    // The digests come from A's own export (the BAPI never shows them).
    std::string const digests = data.path + "/digests.csv";
    BOOST_TEST_REQUIRE(
        run({bin, "export", "--format", "clerk-csv", "--include-secrets", "--out", digests, "--data-dir", dir_a},
            out) == 0);
    server_proc b(dir_b, {"--config", cfg_b});
    std::string const url = "http://127.0.0.1:" + std::to_string(a.s.bapi);
    // A dry run writes nothing and counts what would move (its members are the users the same run would import).
    BOOST_TEST(run({bin, "import", url, "--secret-key", secret, "--dry-run", "--config", cfg_b, "--data-dir", dir_b},
                   out) == 0,
               read_file(out + ".err"));
    auto dry = report_of(out).at("organizations").as_object();
    BOOST_TEST(dry.at("would_import").at("organizations") == 3);
    BOOST_TEST(b.bapi().bapi(verb::get, "/v1/organizations").json.at("total_count") == 0);

    BOOST_TEST_REQUIRE(
        run({bin, "import", url, "--secret-key", secret, "--digests", digests, "--config", cfg_b, "--data-dir", dir_b},
            out) == 0,
        read_file(out + ".err"));
    auto rep = report_of(out).at("organizations").as_object();
    BOOST_TEST(rep.at("imported").at("organizations") == 3);
    BOOST_TEST(rep.at("imported").at("memberships") == 12);  // 3 creators + 3 x 3 members
    BOOST_TEST(rep.at("imported").at("invitations") == 3);
    BOOST_TEST(rep.at("warnings") == 1);  // org:auditor, once
    BOOST_TEST(json::serialize(rep.at("problems")).find("org:auditor") != std::string::npos);

    auto bb = b.bapi();
    auto same = [](json::value const& x, json::value const& y, std::initializer_list<char const*> fields) {
        for (auto const* f : fields) BOOST_TEST_CONTEXT(f) {
                BOOST_TEST(json::serialize(x.at(f)) == json::serialize(y.at(f)));
            }
    };
    for (auto const& id : orgs) {
        BOOST_TEST_CONTEXT(id) {
            auto oa = ba.bapi(verb::get, "/v1/organizations/" + id);
            auto ob = bb.bapi(verb::get, "/v1/organizations/" + id);
            BOOST_TEST_REQUIRE(ob.status == 200u, ob.body);
            same(oa.json, ob.json,
                 {"id", "name", "slug", "has_image", "public_metadata", "private_metadata", "max_allowed_memberships",
                  "admin_delete_enabled", "created_by", "created_at", "updated_at"});
            auto ma = ba.bapi(verb::get, "/v1/organizations/" + id + "/memberships?limit=100");
            auto mb = bb.bapi(verb::get, "/v1/organizations/" + id + "/memberships?limit=100");
            BOOST_TEST_REQUIRE(ma.json.at("data").as_array().size() == 4u);
            BOOST_TEST_REQUIRE(mb.json.at("data").as_array().size() == 4u);
            std::map<std::string, json::value> by_id;
            for (auto const& m : mb.json.at("data").as_array()) by_id[str(m.at("id"))] = m;
            for (auto const& m : ma.json.at("data").as_array()) {
                auto it = by_id.find(str(m.at("id")));
                BOOST_TEST_REQUIRE((it != by_id.end()));
                same(m, it->second, {"id", "role", "public_metadata", "private_metadata", "created_at", "updated_at"});
                BOOST_TEST(m.at("public_user_data").at("user_id") == it->second.at("public_user_data").at("user_id"));
            }
            auto ia = ba.bapi(verb::get, "/v1/organizations/" + id + "/invitations?status=pending");
            auto ib = bb.bapi(verb::get, "/v1/organizations/" + id + "/invitations?status=pending");
            BOOST_TEST_REQUIRE(ib.json.at("data").as_array().size() == 1u, ib.body);
            same(ia.json.at("data").at(0), ib.json.at("data").at(0),
                 {"id", "email_address", "role", "status", "public_metadata", "private_metadata", "created_at"});
        }
    }
    BOOST_TEST(bb.bapi(verb::get, "/v1/organizations/" + orgs[0] + "/invitations?status=revoked")
                   .json.at("data")
                   .as_array()
                   .empty());
    // The user JSON carries the memberships, and a member of an imported organization gets its claims on the FAPI.
    auto ub = bb.bapi(verb::get, "/v1/users/" + users[4]);
    BOOST_TEST(ub.json.at("organization_memberships").as_array().size() == 3u, ub.body);
    {
        http_client c(b.s.fapi);
        auto si = c.fapi(
            "POST", "/v1/client/sign_ins",
            {{"identifier", "m3@example.com"}, {"strategy", "password"}, {"password", "correct horse battery 3"}});
        BOOST_TEST_REQUIRE(si.status == 200u, si.body);
        auto const sid = str(response(si).at("created_session_id"));
        auto touched = c.fapi("POST", "/v1/client/sessions/" + sid + "/touch", {{"active_organization_id", orgs[1]}});
        BOOST_TEST_REQUIRE(touched.status == 200u, touched.body);
        auto tok = c.fapi("POST", "/v1/client/sessions/" + sid + "/tokens", {});
        BOOST_TEST_REQUIRE(tok.status == 200u, tok.body);
        auto claims = jwt_payload(str(tok.json.at("jwt")));
        BOOST_TEST(str(claims.at("o").at("id")) == orgs[1]);
        BOOST_TEST(claims.at("o").at("rol") == "billing");  // roles[(1 + 3) % 3] = org:billing
    }
    // Again: nothing changes.
    BOOST_TEST(run({bin, "import", url, "--secret-key", secret, "--config", cfg_b, "--data-dir", dir_b}, out) == 0);
    auto again = report_of(out).at("organizations").as_object();
    BOOST_TEST(again.at("imported").at("organizations") == 0);
    BOOST_TEST(again.at("unchanged") == 18);  // 3 organizations + 12 memberships + 3 invitations
    // --users-only leaves them out.
    BOOST_TEST(run({bin, "import", url, "--secret-key", secret, "--users-only", "--config", cfg_b, "--data-dir", dir_b},
                   out) == 0);
    BOOST_TEST(!report_of(out).contains("organizations"));
}

BOOST_AUTO_TEST_SUITE_END()
