// Fuzz: the urlencoded form/query decoder and UTF-8 validation.
#include "harness.hpp"
#include "server/http/params.hpp"

#include <cstdint>
#include <string>

void fuzz_one(std::string_view in) {
    latchkey::server::params p;
    auto st = latchkey::server::parse_urlencoded(in, p, 1024, 64);
    if (st == latchkey::server::parse_status::ok) {
        for (auto const& [k, v] : p.items())
            if (!latchkey::server::valid_utf8(k) || !latchkey::server::valid_utf8(v) || k.size() > 1024 ||
                v.size() > 1024)
                __builtin_trap();  // the decoder promised valid, bounded fields
        (void)p.all("a", true);
    }
}
