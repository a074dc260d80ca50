add_library(latchkey_warnings INTERFACE)
target_compile_options(latchkey_warnings INTERFACE
    -Wall -Wextra -Wpedantic -Wshadow -Woverloaded-virtual -Wcast-align -Wformat=2
    -Wimplicit-fallthrough -Wundef
    $<$<CXX_COMPILER_ID:GNU>:-Wlogical-op -Wduplicated-cond>
    $<$<BOOL:${LATCHKEY_WERROR}>:-Werror>)
