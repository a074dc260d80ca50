// Form-body and Cookie-header parsing as dispatch does it for every FAPI request.
#include "server/http/params.hpp"

#include <benchmark/benchmark.h>

#include <string>

namespace {

using latchkey::server::params;

/// parse_urlencoded of `text` (into a cleared params) once per iteration.
void parse_loop(benchmark::State& state, std::string const& text) {
    params p;
    for (auto _ : state) {
        p.clear();
        auto st = latchkey::server::parse_urlencoded(text, p, 8192);
        benchmark::DoNotOptimize(st);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}

void BM_parse_form_sign_in(benchmark::State& state) {
    parse_loop(state,
               "identifier=ada.lovelace%2Bbench%40example.com&password=correct+horse+battery+staple"
               "&strategy=password");
}
BENCHMARK(BM_parse_form_sign_in);

void BM_parse_query_clerk_js(benchmark::State& state) {
    parse_loop(state,
               "__clerk_api_version=2025-04-10&_clerk_js_version=5.67.0&_method=PATCH"
               "&__clerk_db_jwt=dvb_2pXq1vZ0b8kYc9mN4rT6uW3eLhA");
}
BENCHMARK(BM_parse_query_clerk_js);

void BM_parse_cookies_browser(benchmark::State& state) {
    // What a signed-in browser sends to the FAPI: __client plus the app's own cookies.
    std::string const h =
        "__client=client_2pXq1vZ0b8kYc9mN4rT6uW3eLhA.Yk3v0R2mX9q8Lr5sTn1wZc7eHf4gJd6bNa0pQs2uVx8; "
        "__client_uat=1732345678; __client_uat_Q3N0Ym9k=1732345678; "
        "__session=eyJhbGciOiJSUzI1NiJ9.e30.sig; _ga=GA1.1.123456789.1732345678; theme=dark";
    params p;
    for (auto _ : state) {
        p.clear();
        latchkey::server::parse_cookies(h, p);
        benchmark::DoNotOptimize(p.items().data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * h.size()));
}
BENCHMARK(BM_parse_cookies_browser);

void BM_valid_utf8_1k(benchmark::State& state) {
    std::string s;
    while (s.size() < 1024) s += "Ada Lovelace \xc3\xa9\xe2\x82\xac ";
    for (auto _ : state) benchmark::DoNotOptimize(latchkey::server::valid_utf8(s));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * s.size()));
}
BENCHMARK(BM_valid_utf8_1k);

}  // namespace
