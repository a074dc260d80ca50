#include "crypto/ossl.hpp"

#include <boost/test/unit_test.hpp>

#include <openssl/err.h>
#include <openssl/evp.h>

#include <string>
#include <vector>

namespace crypto = latchkey::crypto;

static_assert(sizeof(crypto::evp_pkey_ptr) == sizeof(EVP_PKEY*), "deleter must be stateless");
static_assert(sizeof(crypto::bio_ptr) == sizeof(BIO*), "deleter must be stateless");

namespace {

std::vector<std::string>& captured() {
    static std::vector<std::string> lines;
    return lines;
}

void capture(std::string_view line) noexcept { captured().emplace_back(line); }

// Queues a real OpenSSL error: an unknown digest name.
void queue_an_error() {
    EVP_MD* md = ::EVP_MD_fetch(nullptr, "no-such-digest", nullptr);
    BOOST_TEST_REQUIRE(md == nullptr);
    BOOST_TEST_REQUIRE(::ERR_peek_error() != 0UL);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(crypto_ossl)

BOOST_AUTO_TEST_CASE(equal_ct_compares_bytes_and_lengths) {
    BOOST_TEST(crypto::equal_ct("", ""));
    BOOST_TEST(crypto::equal_ct("abc", "abc"));
    BOOST_TEST(!crypto::equal_ct("abc", "abd"));
    BOOST_TEST(!crypto::equal_ct("abc", "ab"));
    BOOST_TEST(!crypto::equal_ct(std::string("a\0b", 3), std::string("a\0c", 3)));
    BOOST_TEST(crypto::equal_ct(std::string("a\0b", 3), std::string("a\0b", 3)));
}

BOOST_AUTO_TEST_CASE(drain_errors_formats_and_empties_the_queue) {
    queue_an_error();
    std::string const text = crypto::drain_errors("fetch");
    BOOST_TEST(text.rfind("fetch: error:", 0) == 0U);
    BOOST_TEST(::ERR_peek_error() == 0UL);
    BOOST_TEST(crypto::drain_errors("idle") == "idle: (no OpenSSL error queued)");
}

BOOST_AUTO_TEST_CASE(log_openssl_failure_goes_to_the_installed_sink) {
    captured().clear();
    crypto::set_log_sink(&capture);
    queue_an_error();
    crypto::log_openssl_failure("unit");
    crypto::log_line("plain");
    crypto::set_log_sink(nullptr);
    BOOST_TEST_REQUIRE(captured().size() == 2U);
    BOOST_TEST(captured()[0].rfind("unit: error:", 0) == 0U);
    BOOST_TEST(captured()[1] == "plain");
    BOOST_TEST(::ERR_peek_error() == 0UL);
}

BOOST_AUTO_TEST_SUITE_END()
