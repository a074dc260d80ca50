#define BOOST_TEST_MODULE latchkey_integration_tests
#include <boost/test/unit_test.hpp>
