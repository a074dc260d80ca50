#pragma once
// The entry every fuzz target shares. libFuzzer (the `fuzz` preset) or smoke_main.cpp (every other build) calls
// LLVMFuzzerTestOneInput with raw bytes; the harness hands them to the target's fuzz_one as text. A target
// defines its two functions and includes this header once (it defines the entry point).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

/// The target's starting inputs (smoke_main.cpp mutates them; `--dump-seeds DIR` starts a libFuzzer corpus).
std::vector<std::string> fuzz_seeds();
/// The target's check of one input: __builtin_trap() when an invariant breaks.
void fuzz_one(std::string_view in);

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    fuzz_one(std::string_view(reinterpret_cast<char const*>(data), size));
    return 0;
}
