// The one translation unit that defines the test module (and main) for the server unit tests.
#define BOOST_TEST_MODULE latchkey_server_tests  // NOLINT(readability-identifier-naming)
#include <boost/test/unit_test.hpp>
