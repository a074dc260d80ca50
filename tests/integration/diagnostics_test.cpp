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
    auto const deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (::waitpid(pid, &st, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &st, 0);
            BOOST_FAIL("latchkey serve did not exit within 30 s");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
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

BOOST_AUTO_TEST_SUITE_END()
