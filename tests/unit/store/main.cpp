#define BOOST_TEST_MODULE latchkey_store_tests
#include <boost/test/unit_test.hpp>
