// The store's diagnostics: the default sink's line is valid JSON whatever the text holds, and an installed sink
// receives every LMDB failure the store reports.
#include "store/log.hpp"

#include "store/error.hpp"
#include "store/lmdb/open.hpp"
#include "store/store.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

namespace store = latchkey::store;
namespace json = boost::json;

namespace {

struct captured {
    std::string level, event;
    std::vector<std::pair<std::string, std::string>> fields;
};
std::vector<captured> seen;

void capture(std::string_view level, std::string_view event, std::span<store::log_field const> fields) noexcept {
    captured c{std::string(level), std::string(event), {}};
    for (auto const& f : fields) c.fields.emplace_back(std::string(f.name), std::string(f.value));
    seen.push_back(std::move(c));
}

struct sink_guard {
    sink_guard() {
        seen.clear();
        store::set_log_sink(&capture);
    }
    ~sink_guard() { store::set_log_sink(nullptr); }
    sink_guard(sink_guard const&) = delete;
    sink_guard& operator=(sink_guard const&) = delete;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(store_log)

BOOST_AUTO_TEST_CASE(a_value_with_quotes_newlines_and_control_characters_stays_one_valid_json_object) {
    std::string const nasty = "op \"quoted\" \\ back\nslash\r\ttab \x01\x1f\x7f end";
    std::string const key = "na\"me\n";
    store::log_field const fields[] = {{"op", nasty}, {key, "plain"}, {"empty", ""}};
    auto const line = store::json_line("error", "lm\"db", fields);
    BOOST_TEST(line.find('\n') == std::string::npos);  // one line, whatever the values hold
    json::error_code ec;
    auto const v = json::parse(line, ec);
    BOOST_TEST_REQUIRE(!ec, line);
    auto const& o = v.as_object();
    BOOST_TEST(o.at("level").as_string() == "error");
    BOOST_TEST(o.at("event").as_string() == "lm\"db");
    BOOST_TEST(o.at("op").as_string() == nasty);
    BOOST_TEST(o.at(key).as_string() == "plain");
    BOOST_TEST(o.at("empty").as_string() == "");
    BOOST_TEST(o.size() == 5u);
}

BOOST_AUTO_TEST_CASE(the_installed_sink_receives_lmdb_failures_and_nullptr_restores_the_default) {
    // Real failures through the store's own API (no LMDB constants here: only store/ knows LMDB): a data dir whose
    // data.mdb is a directory cannot be opened.
    namespace fs = std::filesystem;
    fs::path const root = fs::temp_directory_path() / ("latchkey-log-test-" + std::to_string(::getpid()));
    fs::remove_all(root);
    fs::create_directories(root / "broken" / "data.mdb");
    store::lmdb::options broken;
    broken.dir = (root / "broken").string();
    {
        sink_guard g;
        BOOST_TEST(!store::lmdb::open(broken).has_value());
        BOOST_TEST_REQUIRE(seen.size() == 1u);
        BOOST_TEST(seen[0].level == "error");
        BOOST_TEST(seen[0].event == "lmdb");
        BOOST_TEST_REQUIRE(seen[0].fields.size() == 2u);
        BOOST_TEST(seen[0].fields[0].first == "op");
        BOOST_TEST(seen[0].fields[0].second == "mdb_env_open");
        BOOST_TEST(seen[0].fields[1].first == "error");
        BOOST_TEST(!seen[0].fields[1].second.empty());
        // Not-found is an answer, not a failure: nothing is logged.
        store::lmdb::options good;
        good.dir = (root / "good").string();
        good.map_size = 1u << 20;
        auto db = store::lmdb::open(good);
        BOOST_TEST_REQUIRE(db.has_value());
        auto u = (*db)->with_read([](store::read_txn const& t) { return t.users().get("user_missing"); });
        BOOST_TEST((u && !*u));
        BOOST_TEST(seen.size() == 1u);
    }
    seen.clear();
    BOOST_TEST(!store::lmdb::open(broken).has_value());  // back on the default (stderr) sink
    BOOST_TEST(seen.empty());
    fs::remove_all(root);
}

BOOST_AUTO_TEST_CASE(append_json_string_writes_exactly_what_boost_json_serializes) {
    // The one JSON escaper (the logs and the API's hand-written responses use it): byte for byte Boost.JSON's
    // output, for every single byte below 0x80 alone and inside plain text long enough for the word-at-a-time scan.
    for (int c = 0; c < 0x80; ++c) {
        std::string const one(1, static_cast<char>(c));
        for (std::string const& text :
             {one, "plain text " + one + " and more plain text", std::string(17, 'x') + one}) {
            std::string out = "[";
            store::append_json_string(out, text);
            BOOST_TEST_CONTEXT("byte " << c) { BOOST_TEST(out == "[" + json::serialize(json::value(text))); }
        }
    }
    std::string const utf8 = "caf\xc3\xa9 \xe2\x80\xa8 \x7f";  // UTF-8, a line separator and DEL: verbatim
    std::string out;
    store::append_json_string(out, utf8);
    BOOST_TEST(out == json::serialize(json::value(utf8)));
}

BOOST_AUTO_TEST_SUITE_END()
