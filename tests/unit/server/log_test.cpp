// The composition root's wiring of the modules' diagnostics: once adopted, what store/ and crypto/ report comes
// out of the server's structured log as one valid JSON object per line, however the text is made.
#include "server/log.hpp"

#include "crypto/ossl.hpp"
#include "store/log.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace json = boost::json;
namespace slog = latchkey::server::log;

namespace {

/// Everything the log writes to stdout while `f` runs and the buffer is flushed (stdout pointed at a file).
template <class F>
std::vector<std::string> stdout_lines(F&& f) {
    std::fflush(stdout);
    slog::flush();
    char path[] = "/tmp/latchkey-log-test-XXXXXX";
    int const fd = ::mkstemp(path);
    BOOST_REQUIRE(fd >= 0);
    int const saved = ::dup(STDOUT_FILENO);
    ::dup2(fd, STDOUT_FILENO);
    f();
    slog::flush();
    ::dup2(saved, STDOUT_FILENO);
    ::close(saved);
    ::close(fd);
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    ::unlink(path);
    return lines;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(server_log)

BOOST_AUTO_TEST_CASE(store_and_crypto_diagnostics_become_escaped_json_lines_of_the_one_log) {
    std::string const op = "mdb_get \"users\"\nsecond line \\ \x01";
    std::string const detail = "error:0A000086:SSL routines::\"certificate\" verify failed\r\n";
    slog::adopt_module_diagnostics();
    auto const lines = stdout_lines([&] {
        latchkey::store::log("error", "lmdb", {{"op", op}, {"error", "MDB_CORRUPTED: \"Located page\""}});
        latchkey::crypto::log_line(detail);
    });
    slog::release_module_diagnostics();
    BOOST_TEST_REQUIRE(lines.size() == 2u);
    std::vector<json::object> objs;
    for (auto const& l : lines) {
        json::error_code ec;
        auto v = json::parse(l, ec);
        BOOST_TEST_REQUIRE(!ec, l);
        BOOST_TEST_REQUIRE(v.is_object(), l);
        objs.push_back(v.as_object());
    }
    BOOST_TEST(objs[0].at("level").as_string() == "error");
    BOOST_TEST(objs[0].at("event").as_string() == "lmdb");
    BOOST_TEST(objs[0].at("op").as_string() == op);
    BOOST_TEST(objs[0].at("error").as_string() == "MDB_CORRUPTED: \"Located page\"");
    BOOST_TEST(objs[0].contains("ts"));
    BOOST_TEST(objs[1].at("event").as_string() == "crypto");
    BOOST_TEST(objs[1].at("detail").as_string() == detail);

    // Released: the modules are back on their stderr defaults, nothing more reaches the server's log.
    auto const after = stdout_lines([&] { latchkey::store::log("error", "lmdb", {{"op", "after"}}); });
    BOOST_TEST(after.empty());
}

BOOST_AUTO_TEST_CASE(an_access_line_escapes_the_method_path_and_address_it_is_given) {
    // The request line is the client's: quotes, backslashes and control characters stay inside their strings.
    std::string const path = "/v1/\"quoted\"\\back\nslash\x01\x1f?q=\t";
    std::string const method = "GE\"T";
    std::string const ip = "::1\r";
    auto const lines = stdout_lines([&] { slog::access("fapi", "req_1", method, path, 404, "", 12, 34, ip); });
    BOOST_TEST_REQUIRE(lines.size() == 1u);
    json::error_code ec;
    auto v = json::parse(lines[0], ec);
    BOOST_TEST_REQUIRE(!ec, lines[0]);
    auto const& o = v.as_object();
    BOOST_TEST(o.at("event").as_string() == "request");
    BOOST_TEST(o.at("method").as_string() == method);
    BOOST_TEST(o.at("path").as_string() == path);
    BOOST_TEST(o.at("ip").as_string() == ip);
    BOOST_TEST(o.at("status") == 404);
}

BOOST_AUTO_TEST_SUITE_END()
