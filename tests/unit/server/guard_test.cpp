// What may leave the server built from input: header values (never CR/LF/NUL on the wire) and redirect
// targets (absolute http(s), no userinfo, no control characters or backslashes, re-serialised).
#include "server/http/guard.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace latchkey::server;

BOOST_AUTO_TEST_SUITE(guard)

BOOST_AUTO_TEST_CASE(header_safe_refuses_cr_lf_and_nul) {
    BOOST_TEST(header_safe("https://app.example/x?y=1"));
    BOOST_TEST(header_safe(""));
    BOOST_TEST(!header_safe("a\r\nSet-Cookie: x=1"));
    BOOST_TEST(!header_safe("a\nb"));
    BOOST_TEST(!header_safe("a\rb"));
    BOOST_TEST(!header_safe(std::string("a\0b", 3)));
}

BOOST_AUTO_TEST_CASE(serialize_head_never_writes_an_unsafe_field) {
    response res{http::status::found, 11};
    res.set(http::field::location, "https://app.example/\r\nSet-Cookie: pwn=1");
    res.set("X-Fine", "yes");
    BOOST_TEST(!head_safe(res));
    std::string head;
    serialize_head(res, head);
    BOOST_TEST(head.find("pwn") == std::string::npos);
    BOOST_TEST(head.find("X-Fine: yes\r\n") != std::string::npos);
    res.set(http::field::location, "https://app.example/");
    BOOST_TEST(head_safe(res));
}

BOOST_AUTO_TEST_CASE(parse_redirect_accepts_absolute_http_urls_and_reserialises_them) {
    auto t = parse_redirect("HTTPS://App.Example:443/a/./b/../c?x=1#f");
    BOOST_TEST_REQUIRE(t.has_value());
    BOOST_TEST(t->origin == "https://app.example");
    BOOST_TEST(t->url == "https://app.example/a/c?x=1#f");
    auto p = parse_redirect("http://127.0.0.1:3000");
    BOOST_TEST_REQUIRE(p.has_value());
    BOOST_TEST(p->origin == "http://127.0.0.1:3000");
    auto v6 = parse_redirect("http://[::1]:8080/x");
    BOOST_TEST_REQUIRE(v6.has_value());
    BOOST_TEST(v6->origin == "http://[::1]:8080");
    auto enc = parse_redirect("https://app.example/%0D%0ASet-Cookie:%20x");
    BOOST_TEST_REQUIRE(enc.has_value());
    BOOST_TEST(header_safe(enc->url));
}

BOOST_AUTO_TEST_CASE(parse_redirect_refuses_everything_else) {
    for (std::string bad : std::vector<std::string>{"",
                                                    "/relative",
                                                    "//evil.example/",
                                                    "\\\\evil.example",
                                                    "javascript:alert(1)",
                                                    "data:text/html,x",
                                                    "ftp://app.example/",
                                                    "https://user@app.example/",
                                                    "https://:pw@app.example/",
                                                    "https://@app.example/",
                                                    "https://app.example\\@evil/",
                                                    "https://app.example/\r\nX: y",
                                                    "https://app.example/ x",
                                                    "https://app.example/\x7f",
                                                    "https://app.ex%61mple/",
                                                    "https:///x",
                                                    "https://app.example:0/",
                                                    "https://app.example:65536/",
                                                    "https://app.example:123456/",
                                                    "http://[v1.x]/",
                                                    "http://127.0.0.1.evil.example/",
                                                    "http://1.2.3.4.5/",
                                                    "https://app.example/\xc3\xa9",
                                                    std::string("https://app.example/\0", 21),
                                                    "https://app.example/" + std::string(5000, 'a')})
        BOOST_TEST(!parse_redirect(bad).has_value(), bad);
}

BOOST_AUTO_TEST_CASE(with_query_param_keeps_the_fragment_last_and_encodes) {
    BOOST_TEST(with_query_param("https://a.example/p#f", "k", "v w") == "https://a.example/p?k=v%20w#f");
    BOOST_TEST(with_query_param("https://a.example/p?x=1", "k", "a&b") == "https://a.example/p?x=1&k=a%26b");
}

BOOST_AUTO_TEST_SUITE_END()
