// Fuzz: the Cookie header parser.
#include "server/http/params.hpp"

#include <cstdint>
#include <string>
#include <vector>

std::vector<std::string> fuzz_seeds() {
    return {"__client=client_1.abc; __client_uat=0", "a=\"quoted\"; b=; =c; d",
            "__session=eyJ.x.y;__session_ab12cd34=z"};
}

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    latchkey::server::params p;
    latchkey::server::parse_cookies(std::string_view(reinterpret_cast<char const*>(data), size), p);
    for (auto const& [k, v] : p.items())
        if (k.empty() || k.size() > 256 || v.size() > 8192) __builtin_trap();
    return 0;
}
