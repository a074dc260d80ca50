// Fuzz: redirect-target validation and the head writer. Whatever the input, nothing that reaches a header
// holds CR, LF or NUL: parse_redirect's output is header-safe, starts with its origin and is a fixed point;
// with_query_param keeps it so; and serialize_head writes only whole, safe lines even when a field value is
// the raw input.
#include "harness.hpp"
#include "server/http/guard.hpp"

#include <cstdint>
#include <string>

namespace s = latchkey::server;

namespace {
bool no_crlf_nul(std::string_view v) { return s::header_safe(v); }
}  // namespace

void fuzz_one(std::string_view in) {
    if (auto t = s::parse_redirect(in)) {
        if (!no_crlf_nul(t->url) || !no_crlf_nul(t->origin)) __builtin_trap();
        if (t->url.find('\\') != std::string::npos || t->url.find('@') < t->origin.size()) __builtin_trap();
        if (!t->url.starts_with(t->origin)) __builtin_trap();
        auto again = s::parse_redirect(t->url);
        if (!again || again->url != t->url || again->origin != t->origin) __builtin_trap();
        auto with = s::with_query_param(t->url, "__clerk_handshake", in);
        if (!no_crlf_nul(with)) __builtin_trap();
        auto back = s::parse_redirect(with);
        if (with.size() <= s::max_redirect_bytes && (!back || back->origin != t->origin)) __builtin_trap();
    }
    s::response res{s::http::status::found, 11};
    res.set(s::http::field::location, in);
    res.set("X-Echo", in);
    res.set(s::http::field::content_type, "application/json");
    std::string head;
    s::serialize_head(res, head);
    // Every line ends in CRLF and holds no CR, LF or NUL of its own; the head ends with an empty line.
    if (!head.ends_with("\r\n\r\n")) __builtin_trap();
    std::string_view rest(head);
    std::size_t lines = 0;
    while (!rest.empty()) {
        auto eol = rest.find("\r\n");
        if (eol == std::string_view::npos) __builtin_trap();
        auto line = rest.substr(0, eol);
        if (!no_crlf_nul(line)) __builtin_trap();
        rest.remove_prefix(eol + 2);
        ++lines;
    }
    std::size_t const expect = 1 + 1 + (s::header_safe(in) ? 2 : 0) + 1;  // status, content-type, in x2, blank
    if (lines != expect) __builtin_trap();
    if (s::head_safe(res) != s::header_safe(in)) __builtin_trap();
}
