# latchkey_test_target(<target> [SERVER])
#
# What every Boost.Test executable of ours gets, to keep the build of `make test` cheap:
# - one precompiled header: Boost.Test (~3 s of CPU per file under ASan) and, with SERVER, the Boost.Asio, Beast
#   and JSON headers of the server's own PCH, parsed once per executable instead of once per file. main.cpp
#   (which defines BOOST_TEST_MODULE before it includes Boost.Test) is left out of it;
# - in the sanitizer build (the `asan` preset of `make test`), the test code at -O0 instead of -O1: the sanitizers
#   check it all the same, the code under test (our libraries) stays at -O1, and GCC compiles a test file of many
#   BOOST_TEST checks about 4x faster (integration organizations_test.cpp: 42.8 -> 10.3 CPU s).
# A new *_test.cpp needs nothing; a test file must not rely on a macro being undefined before these headers are
# included (define such macros in CMake instead).
function(latchkey_test_target target)
    cmake_parse_arguments(arg "SERVER" "" "" ${ARGN})
    set(headers <boost/test/unit_test.hpp> <map> <optional> <string> <string_view> <vector>)
    if(arg_SERVER)
        list(APPEND headers
            <boost/asio/awaitable.hpp> <boost/asio/ip/tcp.hpp> <boost/beast/http/message.hpp>
            <boost/beast/http/string_body.hpp> <boost/json/array.hpp> <boost/json/object.hpp> <boost/json/parse.hpp>
            <boost/json/serialize.hpp> <boost/json/value.hpp> <boost/system/result.hpp>)
    endif()
    target_precompile_headers(${target} PRIVATE ${headers})
    get_target_property(sources ${target} SOURCES)
    foreach(s ${sources})
        if(s MATCHES "(^|/)main\\.cpp$")
            set_source_files_properties(${s} TARGET_DIRECTORY ${target} PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
        endif()
    endforeach()
    latchkey_test_code(${target})
endfunction()

# latchkey_test_code(<target>): only the -O0 of the sanitizer build (for test code that is not a Boost.Test
# executable, such as the integration fixture library).
function(latchkey_test_code target)
    if(CMAKE_CXX_FLAGS MATCHES "-fsanitize=address")
        target_compile_options(${target} PRIVATE -O0)
    endif()
endfunction()
