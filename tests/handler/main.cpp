#define BOOST_TEST_MODULE latchkey handler tests
#include <boost/test/unit_test.hpp>
