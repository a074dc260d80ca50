// The modules' diagnostics on the real binary: what crypto/ and store/ report while `serve` starts (here: a signing
// key file that is not a key, an unusable data dir) arrives on stdout as escaped JSON lines of the one structured
// log, not as free text on stderr, and the process still exits with the bad-setting code.
#include "tests/common/server_fixture.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

using namespace latchkey::test;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

struct outcome {
    int exit_code = -1;
    std::vector<std::string> out;  ///< stdout lines
    std::string err;               ///< stderr
};

std::vector<std::string> lines_of(std::string const& path) {
    std::ifstream f(path);
    std::vector<std::string> out;
    for (std::string l; std::getline(f, l);)
        if (!l.empty()) out.push_back(l);
    return out;
}

/// Waits at most 30 s for `pid` to exit (its wait status in `st`); past that kills it and answers false.
bool reap(pid_t pid, int& st) {
    auto const deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (::waitpid(pid, &st, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &st, 0);
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

/// `latchkey serve` on 127.0.0.1:0 with `data_dir`, stdout and stderr to files; waits at most 30 s for the exit.
outcome serve(std::string const& bin, std::string const& data_dir, std::string const& scratch) {
    std::string const out_path = scratch + "/stdout", err_path = scratch + "/stderr";
    std::vector<std::string> args{bin,           "serve",      "--listen", "127.0.0.1:0", "--backend-listen",
                                  "127.0.0.1:0", "--data-dir", data_dir};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::string env0 = "LATCHKEY_SECRET_KEY=sk_test_diagnosticsdiagnostics01";
    char* envp[] = {env0.data(), nullptr};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid = -1;
    int const rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp);
    posix_spawn_file_actions_destroy(&fa);
    outcome o;
    if (rc != 0 || pid <= 0) return o;
    int st = 0;
    if (!reap(pid, st)) BOOST_FAIL("latchkey serve did not exit within 30 s");
    o.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    o.out = lines_of(out_path);
    std::ifstream e(err_path);
    o.err.assign(std::istreambuf_iterator<char>(e), {});
    return o;
}

/// Every stdout line parses as one JSON object; returns them.
std::vector<json::object> parsed(outcome const& o) {
    std::vector<json::object> objs;
    for (auto const& l : o.out) {
        json::error_code ec;
        auto v = json::parse(l, ec);
        BOOST_TEST_REQUIRE(!ec, "not JSON: " << l);
        BOOST_TEST_REQUIRE(v.is_object(), l);
        objs.push_back(v.as_object());
    }
    return objs;
}

json::object const* event(std::vector<json::object> const& objs, std::string_view name) {
    for (auto const& o : objs)
        if (auto const* e = o.if_contains("event"); e && e->is_string() && e->get_string() == name) return &o;
    return nullptr;
}

std::string bin() {
    char const* b = std::getenv("LATCHKEY_BIN");
    BOOST_TEST_REQUIRE(b != nullptr, "LATCHKEY_BIN must point at the latchkey binary");
    return b;
}

/// A start that failed (exit code 2) and logged a JSON line of level error for `name` on stdout; returns that line.
json::object failed_start_event(outcome const& o, std::string_view name) {
    BOOST_TEST(o.exit_code == 2);
    auto const objs = parsed(o);
    auto const* e = event(objs, name);
    BOOST_TEST_REQUIRE(e != nullptr, "no " << name << " line on stdout; stderr: " << o.err);
    BOOST_TEST(e->at("level") == "error");
    return *e;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(diagnostics)

BOOST_AUTO_TEST_CASE(a_crypto_failure_at_start_is_a_json_line_of_the_log) {
    tmp_dir t;
    std::string const data = t.path + "/d";
    fs::create_directories(data + "/keys");
    {
        std::ofstream k(data + "/keys/0001-broken.pem");
        k << "-----BEGIN PRIVATE KEY-----\n\"not\" a key\n-----END PRIVATE KEY-----\n";
    }
    auto const o = serve(bin(), data, t.path);
    auto const c = failed_start_event(o, "crypto");
    BOOST_TEST(c.at("detail").as_string().find("PEM_read_bio_PrivateKey") != json::string::npos);
    // stderr keeps only the one-line reason for the exit; the diagnostic is not repeated there as free text.
    BOOST_TEST(o.err.find("latchkey.crypto") == std::string::npos, o.err);
    BOOST_TEST(o.err.find("cannot load signing key") != std::string::npos, o.err);
}

BOOST_AUTO_TEST_CASE(a_store_failure_at_start_is_a_json_line_of_the_log) {
    tmp_dir t;
    // The data dir's db is a file where LMDB needs a directory: opening the store fails and says so.
    std::string const data = t.path + "/d";
    fs::create_directories(data);
    std::ofstream(data + "/db") << "not a directory";
    auto const o = serve(bin(), data, t.path);
    auto const s = failed_start_event(o, "lmdb");
    BOOST_TEST(!s.at("op").as_string().empty());
    BOOST_TEST(o.err.find("\"event\":\"lmdb\"") == std::string::npos, o.err);
}

BOOST_AUTO_TEST_CASE(secrets_never_reach_the_log) {
    // The whole stdout of a run (the access log, refusals, the store's and crypto's lines) holds neither the secret
    // key (good or bad), nor a password (right or wrong), nor the client credential or a session token.
    tmp_dir t;
    std::string const data = t.path + "/d";
    std::string const out_path = t.path + "/stdout";
    std::string const secret = "sk_test_thesecretnevergoestothelog01";
    std::string const wrong_secret = "sk_test_awrongsecretalsonevergoesthere";
    std::string const pw = "Pa55word-never-logged-7f3a";
    std::string const wrong_pw = "Wr0ng-password-never-logged-9c1d";
    std::vector<std::string> args{bin(),         "serve",      "--listen", "127.0.0.1:0", "--backend-listen",
                                  "127.0.0.1:0", "--data-dir", data};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::string env0 = "LATCHKEY_SECRET_KEY=" + secret, env1 = "LATCHKEY_ACCESS_LOG=true";
    char* envp[] = {env0.data(), env1.data(), nullptr};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid = -1;
    int const rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp);
    posix_spawn_file_actions_destroy(&fa);
    BOOST_TEST_REQUIRE((rc == 0 && pid > 0));
    auto stop = [&] {
        ::kill(pid, SIGTERM);
        int st = 0;
        (void)reap(pid, st);
    };
    unsigned short fapi = 0, bapi = 0;
    for (auto const deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
         fapi == 0 && std::chrono::steady_clock::now() < deadline;
         std::this_thread::sleep_for(std::chrono::milliseconds(20))) {
        for (auto const& l : lines_of(out_path)) {
            json::error_code ec;
            auto v = json::parse(l, ec);
            if (ec || !v.is_object() || v.as_object().if_contains("fapi") == nullptr) continue;
            auto port = [&](char const* k) {
                std::string const e(v.at(k).as_string());
                return static_cast<unsigned short>(std::stoi(e.substr(e.rfind(':') + 1)));
            };
            fapi = port("fapi");
            bapi = port("bapi");
        }
    }
    if (fapi == 0) stop();
    BOOST_TEST_REQUIRE(fapi != 0, "no listening line");

    std::vector<std::string> seen;  // tokens the run handed out, which must not be logged either
    {
        http_client b(bapi);
        b.secret_key = secret;
        auto u = b.bapi(http::verb::post, "/v1/users",
                        json::object{{"email_address", json::array{"logs@example.com"}}, {"password", pw}});
        BOOST_TEST_REQUIRE(u.status == 200u, u.body);
        std::string const uid(u.json.at("id").as_string());
        BOOST_TEST(
            b.bapi(http::verb::post, "/v1/users/" + uid + "/verify_password", json::object{{"password", pw}}).status ==
            200u);
        BOOST_TEST(
            b.bapi(http::verb::post, "/v1/users/" + uid + "/verify_password", json::object{{"password", wrong_pw}})
                .status == 422u);
        http_client bad(bapi);
        bad.secret_key = wrong_secret;
        BOOST_TEST(bad.bapi(http::verb::get, "/v1/users").status == 401u);

        http_client c(fapi);
        auto db = c.fapi("POST", "/v1/dev_browser");
        BOOST_TEST_REQUIRE(db.status == 200u, db.body);
        c.dev_browser = std::string(db.json.at("id").as_string());
        seen.push_back(c.dev_browser);
        auto wrong = c.fapi("POST", "/v1/client/sign_ins",
                            {{"identifier", "logs@example.com"}, {"strategy", "password"}, {"password", wrong_pw}});
        BOOST_TEST(wrong.status == 422u, wrong.body);
        auto ok = c.fapi("POST", "/v1/client/sign_ins",
                         {{"identifier", "logs@example.com"}, {"strategy", "password"}, {"password", pw}});
        BOOST_TEST_REQUIRE(ok.status == 200u, ok.body);
        auto const& sessions = ok.json.at("client").at("sessions").as_array();
        BOOST_TEST_REQUIRE(!sessions.empty());
        seen.emplace_back(sessions.at(0).at("last_active_token").at("jwt").as_string());
    }
    stop();
    std::ifstream f(out_path);
    std::string const log((std::istreambuf_iterator<char>(f)), {});
    BOOST_TEST(log.find("\"path\":\"/v1/client/sign_ins\"") != std::string::npos, "the access log ran: " << log);
    for (auto const& s : std::vector<std::string>{secret, wrong_secret, pw, wrong_pw})
        BOOST_TEST(log.find(s) == std::string::npos, s << " is in the log");
    for (auto const& s : seen) BOOST_TEST(log.find(s) == std::string::npos, "a token is in the log");
}

BOOST_AUTO_TEST_SUITE_END()
