// Fuzz: the multipart/form-data parser. The first input line is the Content-Type, the rest the body; every part
// it returns must lie inside the body and respect the limits.
#include "harness.hpp"
#include "server/http/multipart.hpp"

#include <cstdint>
#include <string>
#include <vector>

void fuzz_one(std::string_view in) {
    auto nl = in.find('\n');
    if (nl == std::string_view::npos) return;
    std::string_view const ct = in.substr(0, nl);
    std::string_view const body = in.substr(nl + 1);
    std::vector<latchkey::server::multipart_part> parts;
    latchkey::server::multipart_limits const limits{.max_parts = 8, .max_header_bytes = 256};
    auto st = latchkey::server::parse_multipart(ct, body, parts, limits);
    auto inside = [&](std::string_view v) {
        return v.empty() || (v.data() >= body.data() && v.data() + v.size() <= body.data() + body.size());
    };
    if (st != latchkey::server::multipart_status::ok && !parts.empty()) __builtin_trap();
    if (parts.size() > limits.max_parts) __builtin_trap();
    for (auto const& p : parts)
        if (!inside(p.name) || !inside(p.filename) || !inside(p.content_type) || !inside(p.data))
            __builtin_trap();  // views must point into the body
}
