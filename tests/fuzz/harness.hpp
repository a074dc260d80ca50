#pragma once
// The entry every fuzz target shares. libFuzzer (the `fuzz` preset) or smoke_main.cpp (every other build) calls
// LLVMFuzzerTestOneInput with raw bytes; the harness hands them to the target's fuzz_one as text. A target
// defines its two functions and includes this header once (it defines the entry point).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

/// Starting inputs computed in code (encoded records, a signed token, generated XML); optional. Written ones are
/// files in corpus/<target>/, the seed corpus libFuzzer takes as its directory argument and smoke_main.cpp reads
/// with `--corpus DIR`; `--dump-seeds DIR` writes these computed ones beside them for a libFuzzer run.
std::vector<std::string> fuzz_seeds();
/// The target's check of one input: __builtin_trap() when an invariant breaks.
void fuzz_one(std::string_view in);

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    fuzz_one(std::string_view(reinterpret_cast<char const*>(data), size));
    return 0;
}
