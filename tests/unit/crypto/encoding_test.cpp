#include "crypto/encoding.hpp"

#include "crypto/random.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <string_view>

namespace crypto = latchkey::crypto;
using crypto::errc;

namespace {

struct vector {
    std::string_view raw;
    std::string_view b64;
    std::string_view b64url;
};

// RFC 4648 §10.
constexpr std::array<vector, 7> rfc4648 = {{
    {"", "", ""},
    {"f", "Zg==", "Zg"},
    {"fo", "Zm8=", "Zm8"},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg==", "Zm9vYg"},
    {"fooba", "Zm9vYmE=", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
}};

std::string all_bytes() {
    std::string s(256, '\0');
    for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>(i);
    return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(crypto_encoding)

BOOST_AUTO_TEST_CASE(base64_rfc4648_vectors) {
    for (auto const& v : rfc4648) {
        BOOST_TEST_CONTEXT("input \"" << v.raw << "\"") {
            BOOST_TEST(crypto::base64_encode(v.raw) == v.b64);
            BOOST_TEST(crypto::base64url_encode(v.raw) == v.b64url);
            BOOST_TEST(crypto::base64_encode_unpadded(v.raw) == v.b64url);  // same alphabet for these
            BOOST_TEST(crypto::base64_unpadded_size(v.raw.size()) == v.b64url.size());
            auto d1 = crypto::base64_decode(v.b64);
            auto d2 = crypto::base64url_decode(v.b64url);
            auto d3 = crypto::base64url_decode(v.b64);  // padding is optional for both decoders
            auto d4 = crypto::base64_decode(v.b64url);
            BOOST_TEST_REQUIRE((d1 && d2 && d3 && d4));
            BOOST_TEST(*d1 == v.raw);
            BOOST_TEST(*d2 == v.raw);
            BOOST_TEST(*d3 == v.raw);
            BOOST_TEST(*d4 == v.raw);
        }
    }
}

BOOST_AUTO_TEST_CASE(url_and_standard_alphabets_differ_in_62_and_63) {
    std::string const raw("\xfb\xff\xbf", 3);
    BOOST_TEST(crypto::base64_encode(raw) == "+/+/");
    BOOST_TEST(crypto::base64url_encode(raw) == "-_-_");
    BOOST_TEST(crypto::base64url_decode("+/+/").error() == crypto::make_error_code(errc::invalid_encoding));
    BOOST_TEST(crypto::base64_decode("-_-_").error() == crypto::make_error_code(errc::invalid_encoding));
}

BOOST_AUTO_TEST_CASE(decoders_reject_malformed_input) {
    constexpr std::array<std::string_view, 14> bad = {
        "Z",         // a lone sextet cannot encode a byte
        "Zm9vY",     // 4k + 1 characters
        "Zg=",       // partial padding
        "Zg===",     // too much padding
        "Zm8==",     // padding that does not complete the quantum
        "=Zg=",      // padding first
        "Zg==Zg==",  // padding in the middle
        "Zh==",      // non-zero trailing bits (not canonical)
        "Zm9=",      // non-zero trailing bits
        "Zm9v\n",    // whitespace
        "Zm 9v",     // whitespace
        "Zm9v!",     // outside the alphabet
        "====",      // padding only
        "Zm9\x80",   // high byte
    };
    for (auto const s : bad) {
        BOOST_TEST_CONTEXT("input \"" << s << "\"") {
            BOOST_TEST(crypto::base64_decode(s).has_error());
            BOOST_TEST(crypto::base64url_decode(s).has_error());
        }
    }
}

BOOST_AUTO_TEST_CASE(round_trips_every_byte_and_length) {
    std::string const bytes = all_bytes();
    for (std::size_t n = 0; n <= bytes.size(); ++n) {
        std::string_view const in(bytes.data(), n);
        auto a = crypto::base64url_decode(crypto::base64url_encode(in));
        auto b = crypto::base64_decode(crypto::base64_encode(in));
        auto c = crypto::hex_decode(crypto::hex_encode(in));
        BOOST_TEST_REQUIRE((a && b && c));
        BOOST_TEST((*a == in && *b == in && *c == in));
    }
    std::string appended = "x.";
    crypto::base64url_encode_append(appended, "foob");
    BOOST_TEST(appended == "x.Zm9vYg");
}

BOOST_AUTO_TEST_CASE(hex_rfc4648_vector_and_rejections) {
    BOOST_TEST(crypto::hex_encode("foobar") == "666f6f626172");
    auto upper = crypto::hex_decode("666F6F626172");
    BOOST_TEST_REQUIRE(upper.has_value());
    BOOST_TEST(*upper == "foobar");
    BOOST_TEST(crypto::hex_decode("abc").error() == crypto::make_error_code(errc::invalid_encoding));
    BOOST_TEST(crypto::hex_decode("zz").error() == crypto::make_error_code(errc::invalid_encoding));
    BOOST_TEST(crypto::hex_decode("0x").has_error());
    BOOST_TEST(crypto::hex_decode("").value().empty());
}

BOOST_AUTO_TEST_CASE(base62_fixed_width_known_values) {
    BOOST_TEST(crypto::base62_encode(std::string(20, '\0'), 27) == std::string(27, '0'));
    // 2^160 - 1: KSUID's maximum string (same alphabet, same width).
    BOOST_TEST(crypto::base62_encode(std::string(20, '\xff'), 27) == "aWgEPTl1tmebfsQzFP4bxwgy80V");
    std::string counting(20, '\0');
    for (std::size_t i = 0; i < counting.size(); ++i) counting[i] = static_cast<char>(i);
    BOOST_TEST(crypto::base62_encode(counting, 27) == "0029sS3yqsuDyR1vGFhTuuRAq1b");
    BOOST_TEST(crypto::base62_encode("\x01", 27) == std::string(26, '0') + "1");
    BOOST_TEST(crypto::base62_encode("\x3e", 1) == "10");  // 62 needs two digits: wider than asked
    BOOST_TEST(crypto::base62_encode("", 0).empty());
}

BOOST_AUTO_TEST_CASE(base62_order_matches_numeric_order) {
    for (int i = 0; i < 2000; ++i) {
        std::array<unsigned char, 20> a{};
        std::array<unsigned char, 20> b{};
        crypto::random_bytes(a);
        crypto::random_bytes(b);
        if (i % 2 == 0) std::copy_n(a.begin(), 10, b.begin());  // force long common prefixes too
        std::string const ea = crypto::base62_encode({reinterpret_cast<char const*>(a.data()), a.size()}, 27);
        std::string const eb = crypto::base62_encode({reinterpret_cast<char const*>(b.data()), b.size()}, 27);
        BOOST_TEST_REQUIRE(ea.size() == 27U);
        BOOST_TEST_REQUIRE(eb.size() == 27U);
        int const bytes_cmp = std::memcmp(a.data(), b.data(), a.size());
        int const text_cmp = ea.compare(eb);
        BOOST_TEST(((bytes_cmp < 0) == (text_cmp < 0) && (bytes_cmp == 0) == (text_cmp == 0)));
    }
}

BOOST_AUTO_TEST_SUITE_END()
