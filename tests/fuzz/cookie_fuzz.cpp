// Fuzz: the Cookie header parser.
#include "harness.hpp"
#include "server/http/params.hpp"

#include <cstdint>
#include <string>

void fuzz_one(std::string_view in) {
    latchkey::server::params p;
    latchkey::server::parse_cookies(in, p);
    for (auto const& [k, v] : p.items())
        if (k.empty() || k.size() > 256 || v.size() > 8192) __builtin_trap();
}
