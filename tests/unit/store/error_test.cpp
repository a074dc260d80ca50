#include "store/error.hpp"

#include <boost/test/unit_test.hpp>

#include <set>
#include <string>

using latchkey::store::errc;
using latchkey::store::make_error_code;

BOOST_AUTO_TEST_SUITE(store_error)

BOOST_AUTO_TEST_CASE(every_code_has_its_own_message_in_the_store_category) {
    std::set<std::string> messages;
    for (auto e : {errc::not_found, errc::key_exists, errc::map_full, errc::corrupted, errc::lmdb, errc::invalid_key}) {
        boost::system::error_code const ec = e;  // implicit: errc is an error code enum
        BOOST_TEST(ec.category().name() == std::string("latchkey.store"));
        BOOST_TEST(ec.value() == static_cast<int>(e));
        BOOST_TEST(!ec.message().empty());
        messages.insert(ec.message());
        BOOST_TEST(static_cast<bool>(ec));  // 0 is never used: every errc is a failure
    }
    BOOST_TEST(messages.size() == 6u);
    BOOST_TEST(make_error_code(errc::map_full) != make_error_code(errc::lmdb));
    BOOST_TEST(boost::system::error_code(99, latchkey::store::error_category()).message() == "unknown store error");
}

BOOST_AUTO_TEST_SUITE_END()
