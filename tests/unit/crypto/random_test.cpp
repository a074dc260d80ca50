#include "crypto/random.hpp"

#include "crypto/encoding.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <thread>

namespace crypto = latchkey::crypto;

namespace {

bool is_base62(std::string_view s) {
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return crypto::base62_alphabet.find(c) != std::string_view::npos; });
}

// Inverse of the id body encoding: 27 base62 digits -> 20 big-endian bytes.
std::array<std::uint8_t, 20> decode_body(std::string_view body) {
    std::array<std::uint8_t, 20> n{};
    for (char const c : body) {
        auto carry = static_cast<unsigned>(crypto::base62_alphabet.find(c));
        for (std::size_t i = n.size(); i-- > 0;) {
            unsigned const v = n[i] * 62U + carry;
            n[i] = static_cast<std::uint8_t>(v & 0xffU);
            carry = v >> 8;
        }
        BOOST_TEST_REQUIRE(carry == 0U);  // must fit in 160 bits
    }
    return n;
}

std::uint64_t timestamp_of(std::string_view id) {
    auto const n = decode_body(id.substr(id.find('_') + 1));
    std::uint64_t ms = 0;
    for (std::size_t i = 0; i < 6; ++i) ms = (ms << 8) | n[i];
    return ms;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(crypto_random)

BOOST_AUTO_TEST_CASE(random_bytes_fills_the_span) {
    std::array<unsigned char, 32> a{};
    std::array<unsigned char, 32> b{};
    crypto::random_bytes(a);
    crypto::random_bytes(b);
    BOOST_TEST(a != b);
    BOOST_TEST(std::any_of(a.begin(), a.end(), [](unsigned char c) { return c != 0; }));
    crypto::random_bytes({});  // empty span is fine
}

BOOST_AUTO_TEST_CASE(random_token_is_unpadded_base64url_of_n_bytes) {
    std::string const t = crypto::random_token(32);
    BOOST_TEST(t.size() == 43U);
    auto raw = crypto::base64url_decode(t);
    BOOST_TEST_REQUIRE(raw.has_value());
    BOOST_TEST(raw->size() == 32U);
    BOOST_TEST(t.find_first_of("=+/") == std::string::npos);
    BOOST_TEST(crypto::random_token(32) != t);
    BOOST_TEST(crypto::random_token(0).empty());
    BOOST_TEST(crypto::random_token(30).size() == 40U);
}

BOOST_AUTO_TEST_CASE(random_digits_are_digits_of_the_requested_length) {
    BOOST_TEST(crypto::random_digits(0).empty());
    bool leading_zero_seen = false;
    for (int i = 0; i < 2000; ++i) {
        std::string const code = crypto::random_digits(6);
        BOOST_TEST_REQUIRE(code.size() == 6U);
        BOOST_TEST_REQUIRE(std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; }));
        leading_zero_seen = leading_zero_seen || code[0] == '0';
    }
    BOOST_TEST(leading_zero_seen);  // P(miss) = 0.9^2000
}

BOOST_AUTO_TEST_CASE(random_digits_are_roughly_uniform) {
    constexpr std::size_t n = 1'000'000;
    constexpr double expected = n / 10.0;
    std::string const s = crypto::random_digits(n);
    std::array<std::size_t, 10> counts{};
    for (char const c : s) ++counts[static_cast<std::size_t>(c - '0')];
    // Expected 100,000 each (sd 300), so +-2% is ~6.7 sd. A modulo-biased byte % 10 would give
    // digits 0-5 about 101,560 and 6-9 about 97,660: the chi-square statistic would be ~366.
    double chi2 = 0;
    for (std::size_t const c : counts) {
        BOOST_TEST(c > 98'000U);
        BOOST_TEST(c < 102'000U);
        double const d = static_cast<double>(c) - expected;
        chi2 += d * d / expected;
    }
    BOOST_TEST(chi2 < 40.0);  // 9 degrees of freedom: p < 1e-5
}

BOOST_AUTO_TEST_CASE(new_id_has_clerk_shape) {
    std::string const id = crypto::new_id("user");
    BOOST_TEST(id.size() == 5U + crypto::id_body_length);
    BOOST_TEST(id.rfind("user_", 0) == 0U);
    BOOST_TEST(is_base62(std::string_view(id).substr(5)));
    BOOST_TEST(crypto::new_id("ins").rfind("ins_", 0) == 0U);
}

BOOST_AUTO_TEST_CASE(new_id_encodes_the_millisecond_timestamp) {
    auto const before =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    std::string const id = crypto::new_id("sess");
    auto const after =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    std::uint64_t const ts = timestamp_of(id);
    BOOST_TEST(ts >= static_cast<std::uint64_t>(before));
    BOOST_TEST(ts <= static_cast<std::uint64_t>(after));
    BOOST_TEST(timestamp_of(crypto::new_id("x", 0x0000'1234'5678'9abcULL)) == 0x0000'1234'5678'9abcULL);
    BOOST_TEST(timestamp_of(crypto::new_id("x", 0xffff'ffff'ffffULL)) == 0xffff'ffff'ffffULL);
    // Only the low 48 bits are kept.
    BOOST_TEST(timestamp_of(crypto::new_id("x", 0x0001'0000'0000'0001ULL)) == 1U);
}

BOOST_AUTO_TEST_CASE(later_milliseconds_sort_greater_whatever_the_random_part) {
    std::uint64_t const t = 1'700'000'000'000ULL;
    for (int i = 0; i < 2000; ++i) {
        std::string const a = crypto::new_id("user", t + static_cast<std::uint64_t>(i));
        std::string const b = crypto::new_id("user", t + static_cast<std::uint64_t>(i) + 1);
        BOOST_TEST_REQUIRE(a < b);
    }
    // Carries across byte boundaries of the timestamp.
    BOOST_TEST(crypto::new_id("u", 0xff) < crypto::new_id("u", 0x100));
    BOOST_TEST(crypto::new_id("u", 0xffff'ffffULL) < crypto::new_id("u", 0x1'0000'0000ULL));
    BOOST_TEST(crypto::new_id("u", 0) < crypto::new_id("u", 1));
}

BOOST_AUTO_TEST_CASE(ids_from_the_clock_increase_across_milliseconds) {
    std::string prev = crypto::new_id("client");
    for (int i = 0; i < 5; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        std::string const next = crypto::new_id("client");
        BOOST_TEST(prev < next);
        prev = next;
    }
}

BOOST_AUTO_TEST_CASE(ten_thousand_ids_are_unique) {
    std::set<std::string> ids;
    for (int i = 0; i < 10'000; ++i) ids.insert(crypto::new_id("user"));
    BOOST_TEST(ids.size() == 10'000U);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(ids_from_one_process_strictly_increase_within_a_millisecond) {
    std::string prev = latchkey::crypto::new_id("client");
    for (int i = 0; i < 20000; ++i) {
        std::string next = latchkey::crypto::new_id("client");
        BOOST_TEST_REQUIRE(next > prev);
        prev = std::move(next);
    }
}
