# latchkey_test_pch(<target> [SERVER])
#
# One precompiled header for a Boost.Test executable of several translation units: Boost.Test (~3 s of CPU per
# file under ASan) and, with SERVER, the Boost.Asio, Beast and JSON headers of the server's own PCH, parsed once
# per executable instead of once per file. The executable's main.cpp (which defines BOOST_TEST_MODULE before it
# includes Boost.Test) is left out of it. A new *_test.cpp needs nothing; a test file must not rely on a macro
# being undefined before these headers are included (define such macros in CMake instead).
function(latchkey_test_pch target)
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
endfunction()
