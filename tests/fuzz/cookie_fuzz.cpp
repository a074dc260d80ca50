// Fuzz: the Cookie header parser.
#include "harness.hpp"
#include "server/http/params.hpp"

#include <cstdint>
#include <string>
#include <vector>

std::vector<std::string> fuzz_seeds() {
    return {"__client=client_1.abc; __client_uat=0", "a=\"quoted\"; b=; =c; d",
            "__session=eyJ.x.y;__session_ab12cd34=z"};
}

void fuzz_one(std::string_view in) {
    latchkey::server::params p;
    latchkey::server::parse_cookies(in, p);
    for (auto const& [k, v] : p.items())
        if (k.empty() || k.size() > 256 || v.size() > 8192) __builtin_trap();
}
