#include "crypto/error.hpp"

#include <boost/test/unit_test.hpp>

#include <set>
#include <string>

namespace crypto = latchkey::crypto;
using crypto::errc;

BOOST_AUTO_TEST_SUITE(crypto_error)

BOOST_AUTO_TEST_CASE(category_is_named_and_codes_convert_implicitly) {
    BOOST_TEST(std::string(crypto::error_category().name()) == "latchkey.crypto");
    boost::system::error_code const ec = errc::bad_signature;
    BOOST_TEST(&ec.category() == &crypto::error_category());
    BOOST_TEST(ec.value() == static_cast<int>(errc::bad_signature));
    BOOST_TEST(ec == crypto::make_error_code(errc::bad_signature));
    BOOST_TEST(ec != crypto::make_error_code(errc::invalid_token));
}

BOOST_AUTO_TEST_CASE(every_code_has_its_own_message) {
    std::set<std::string> messages;
    for (int v = static_cast<int>(errc::openssl); v <= static_cast<int>(errc::unsupported_hasher); ++v) {
        std::string const m = crypto::make_error_code(static_cast<errc>(v)).message();
        BOOST_TEST(m.find("unknown") == std::string::npos);
        messages.insert(m);
    }
    BOOST_TEST(messages.size() == 8U);
    BOOST_TEST(crypto::error_category().message(999) == "unknown crypto error");
}

BOOST_AUTO_TEST_CASE(result_holds_a_code_from_errc) {
    crypto::result<std::string> r = errc::invalid_encoding;
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error() == crypto::make_error_code(errc::invalid_encoding));
    crypto::result<void> ok;
    BOOST_TEST(ok.has_value());
}

BOOST_AUTO_TEST_SUITE_END()
