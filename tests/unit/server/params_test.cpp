// Request decoders: urlencoded query strings and form bodies (escapes, limits, UTF-8, repeated keys, comma
// split) and Cookie headers.
#include "server/http/params.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <utility>
#include <vector>

using namespace latchkey::server;

namespace {

using pairs = std::vector<std::pair<std::string, std::string>>;

pairs decode_ok(std::string_view text, std::size_t max_field = 1024, std::size_t max_fields = 256) {
    params p;
    auto st = parse_urlencoded(text, p, max_field, max_fields);
    BOOST_TEST((st == parse_status::ok), text);
    return p.items();
}

parse_status status_of(std::string_view text, std::size_t max_field = 1024, std::size_t max_fields = 256) {
    params p;
    return parse_urlencoded(text, p, max_field, max_fields);
}

pairs cookies_of(std::string_view header) {
    params p;
    parse_cookies(header, p);
    return p.items();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(params_tests)

BOOST_AUTO_TEST_CASE(urlencoded_basics) {
    BOOST_TEST((decode_ok("a=1&b=two") == pairs{{"a", "1"}, {"b", "two"}}));
    BOOST_TEST((decode_ok("") == pairs{}));
    BOOST_TEST((decode_ok("&&a=1&&") == pairs{{"a", "1"}}));               // empty pairs are skipped
    BOOST_TEST((decode_ok("flag&x=") == pairs{{"flag", ""}, {"x", ""}}));  // no '=' and empty value
    BOOST_TEST((decode_ok("k=a=b") == pairs{{"k", "a=b"}}));               // only the first '=' splits
}

BOOST_AUTO_TEST_CASE(urlencoded_escapes_and_plus) {
    BOOST_TEST((decode_ok("first+name=Ada+Lovelace") == pairs{{"first name", "Ada Lovelace"}}));
    BOOST_TEST((decode_ok("e=a%2Bb%40x.io") == pairs{{"e", "a+b@x.io"}}));
    BOOST_TEST((decode_ok("%41%62=%7e%7E%20%25") == pairs{{"Ab", "~~ %"}}));
    BOOST_TEST((decode_ok("j=%7B%22k%22%3A1%7D") == pairs{{"j", R"({"k":1})"}}));
    BOOST_TEST((decode_ok("u=%C3%A9t%C3%A9") == pairs{{"u", "\xC3\xA9t\xC3\xA9"}}));
    for (std::string_view bad : {"a=%", "a=%4", "a=%zz", "a=%4G", "%=1", "a=1&b=%%", "a=%G1"})
        BOOST_TEST((status_of(bad) == parse_status::malformed), bad);
    BOOST_TEST((status_of("=value") == parse_status::malformed));  // a key is required
    BOOST_TEST((status_of("%20=1") == parse_status::ok));
}

BOOST_AUTO_TEST_CASE(urlencoded_invalid_utf8_is_malformed) {
    for (std::string_view bad :
         {"a=%FF", "a=%C0%AF", "a=%ED%A0%80", "a=%E2%82", "a=%F4%90%80%80", "%80=1", "a=%C3", "a=%F8%88%80%80%80"})
        BOOST_TEST((status_of(bad) == parse_status::malformed), bad);
    // Raw (unescaped) bytes are checked as well.
    BOOST_TEST((status_of("a=\xff") == parse_status::malformed));
    BOOST_TEST((status_of("a=\xC3\xA9") == parse_status::ok));
    BOOST_TEST((decode_ok("a=%F0%9F%98%80") == pairs{{"a", "\xF0\x9F\x98\x80"}}));
    BOOST_TEST((decode_ok("a=%EF%BF%BD") == pairs{{"a", "\xEF\xBF\xBD"}}));

    BOOST_TEST(valid_utf8(""));
    BOOST_TEST(valid_utf8("plain ascii"));
    BOOST_TEST(valid_utf8("\xF4\x8F\xBF\xBF"));   // U+10FFFF
    BOOST_TEST(!valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
    BOOST_TEST(!valid_utf8("\xE0\x80\x80"));      // overlong
    BOOST_TEST(!valid_utf8("\xED\xBF\xBF"));      // surrogate
    BOOST_TEST(!valid_utf8("\xC2"));              // truncated
    BOOST_TEST(!valid_utf8("\xC2\x41"));          // bad continuation
    BOOST_TEST(!valid_utf8("\xBF"));              // stray continuation
}

BOOST_AUTO_TEST_CASE(urlencoded_limits) {
    // Field limit applies to decoded keys and values.
    BOOST_TEST((status_of("abcd=1234", 4) == parse_status::ok));
    BOOST_TEST((status_of("abcde=1", 4) == parse_status::field_too_large));
    BOOST_TEST((status_of("a=12345", 4) == parse_status::field_too_large));
    BOOST_TEST((status_of("a=%41%41%41%41", 4) == parse_status::ok));  // 12 bytes encoded, 4 decoded
    BOOST_TEST((status_of("a=%41%41%41%41%41", 4) == parse_status::field_too_large));
    // Grossly oversized raw text is refused before decoding.
    BOOST_TEST((status_of("a=" + std::string(13, '%'), 4) == parse_status::field_too_large));
    // Field count.
    BOOST_TEST((status_of("a=1&b=2", 1024, 2) == parse_status::ok));
    BOOST_TEST((status_of("a=1&b=2&c=3", 1024, 2) == parse_status::too_many_fields));
    BOOST_TEST((status_of("a=1&&&b=2", 1024, 2) == parse_status::ok));  // empty pairs do not count
    std::string many;
    for (int i = 0; i < 257; ++i) many += "k=v&";
    BOOST_TEST((status_of(many) == parse_status::too_many_fields));  // default cap 256
}

BOOST_AUTO_TEST_CASE(repeated_keys_and_comma_split) {
    params p;
    BOOST_TEST_REQUIRE((parse_urlencoded("k=a,b&x=1&k=c&k=,,d,", p, 1024) == parse_status::ok));
    BOOST_TEST_REQUIRE(p.find("k") != nullptr);
    BOOST_TEST(*p.find("k") == "a,b");  // find: the first value
    BOOST_TEST(p.has("x"));
    BOOST_TEST(!p.has("y"));
    BOOST_TEST(p.find("y") == nullptr);
    BOOST_TEST((p.all("k") == std::vector<std::string>{"a,b", "c", ",,d,"}));
    BOOST_TEST((p.all("k", true) == std::vector<std::string>{"a", "b", "c", "d"}));
    BOOST_TEST(p.all("missing").empty());
    BOOST_TEST(p.items().size() == 4u);
    // parse appends to what is there.
    BOOST_TEST_REQUIRE((parse_urlencoded("x=2", p, 1024) == parse_status::ok));
    BOOST_TEST((p.all("x") == std::vector<std::string>{"1", "2"}));
    p.clear();
    BOOST_TEST(p.empty());
    p.add("a", "b");
    BOOST_TEST(*p.find("a") == "b");
}

BOOST_AUTO_TEST_CASE(cookies) {
    BOOST_TEST((cookies_of("a=1; b=2") == pairs{{"a", "1"}, {"b", "2"}}));
    BOOST_TEST((cookies_of("a=1;b=2;  c=3 ") == pairs{{"a", "1"}, {"b", "2"}, {"c", "3"}}));
    BOOST_TEST((cookies_of("\ta=1\t;\tb=2") == pairs{{"a", "1"}, {"b", "2"}}));
    // Quotes are removed; the value is otherwise verbatim (no %-decoding).
    BOOST_TEST((cookies_of(R"(q="x y"; r=%41; s=a=b)") == pairs{{"q", "x y"}, {"r", "%41"}, {"s", "a=b"}}));
    BOOST_TEST((cookies_of(R"(lone=")") == pairs{{"lone", "\""}}));  // one quote is not a quoted value
    BOOST_TEST((cookies_of(R"(e="")") == pairs{{"e", ""}}));
    // Junk is skipped as browsers do: no '=', no name, empty pieces.
    BOOST_TEST((cookies_of("junk; =x; ;; d=4; =; e=") == pairs{{"d", "4"}, {"e", ""}}));
    BOOST_TEST((cookies_of("") == pairs{}));
    BOOST_TEST((cookies_of(";;;") == pairs{}));
    // Over-long names and values are dropped.
    BOOST_TEST((cookies_of(std::string(257, 'n') + "=v; ok=1") == pairs{{"ok", "1"}}));
    BOOST_TEST((cookies_of("big=" + std::string(8193, 'v') + "; ok=1") == pairs{{"ok", "1"}}));
    BOOST_TEST(cookies_of("fits=" + std::string(8192, 'v')).size() == 1u);
    // Repeated names are kept in order (the first wins for find()).
    params p;
    parse_cookies("__client=one; __client=two", p);
    parse_cookies("__session=s", p);  // a second Cookie header appends
    BOOST_TEST(*p.find("__client") == "one");
    BOOST_TEST(p.all("__client").size() == 2u);
    BOOST_TEST(*p.find("__session") == "s");
}

BOOST_AUTO_TEST_SUITE_END()
