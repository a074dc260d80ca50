// The whole API layer for one request, without sockets: api_service::handle (parse query/cookies/form,
// route, identity, handler, envelope, headers, CORS) for GET /v1/health, GET /v1/client (signed in) and
// the token mint, plus response serialization. The difference to the wrk numbers is the transport.
// The access log is off here (cfg.access_log = false in bench_app).
#include "crypto/encoding.hpp"
#include "frontend_harness.hpp"
#include "server/api/oauth/handlers.hpp"

#include <boost/json/parse.hpp>

namespace {

namespace api = latchkey::server::api;
namespace store = latchkey::store;
namespace http = boost::beast::http;
using latchkey::bench::browser_request;
using latchkey::server::request;
using latchkey::server::response;

/// A signed-in browser in a fresh app and the FAPI service over the real route table; with `counted`, every
/// request is counted as the server counts it (GET /metrics), to measure that cost against the same run.
struct fixture {
    explicit fixture(bool count = false)
        : h({}, count ? &registry : nullptr), who(latchkey::bench::seed_browser(h.env, h.env.app().now_ms())) {}
    latchkey::server::metrics registry;
    latchkey::bench::frontend_harness h;
    latchkey::bench::signed_in_browser who;
};

request make(http::verb v, std::string target, std::string const& cookie) {
    return browser_request(v, std::move(target), cookie);
}

void loop(benchmark::State& state, fixture& f, request const& proto) { latchkey::bench::measure(state, f.h, proto); }

void BM_dispatch_health(benchmark::State& state) {
    fixture f;
    loop(state, f, make(http::verb::get, "/v1/health", ""));
}
BENCHMARK(BM_dispatch_health);

void BM_dispatch_get_client_signed_in(benchmark::State& state) {
    fixture f;
    loop(state, f,
         make(http::verb::get, "/v1/client?__clerk_api_version=2025-04-10&_clerk_js_version=5.67.0", f.who.cookie));
}
BENCHMARK(BM_dispatch_get_client_signed_in);

// The same two requests counted by the metrics registry (route pattern, status class, latency histogram).
void BM_dispatch_health_metrics(benchmark::State& state) {
    fixture f(true);
    loop(state, f, make(http::verb::get, "/v1/health", ""));
}
BENCHMARK(BM_dispatch_health_metrics);

void BM_dispatch_get_client_signed_in_metrics(benchmark::State& state) {
    fixture f(true);
    loop(state, f,
         make(http::verb::get, "/v1/client?__clerk_api_version=2025-04-10&_clerk_js_version=5.67.0", f.who.cookie));
}
BENCHMARK(BM_dispatch_get_client_signed_in_metrics);

void BM_dispatch_token_mint(benchmark::State& state) {
    fixture f;
    loop(state, f, make(http::verb::post, "/v1/client/sessions/" + f.who.session.id + "/tokens", f.who.cookie));
}
BENCHMARK(BM_dispatch_token_mint);

void BM_dispatch_environment(benchmark::State& state) {
    fixture f;
    loop(state, f, make(http::verb::get, "/v1/environment", ""));
}
BENCHMARK(BM_dispatch_environment);

// latchkey as an OAuth provider (issue 15), next to the token mint above in the same run: a refresh_token grant
// (rotation: each iteration presents the refresh token the previous one returned; the answer carries a new
// access token, a new refresh token and an RS256 ID token) and GET /oauth/userinfo with a Bearer access token.
struct oauth_seed {
    std::string refresh, access;
    std::string basic;
};

oauth_seed seed_oauth(fixture& f) {
    oauth_seed out;
    auto now = f.h.env.app().now_ms();
    store::oauth_app_record app;
    app.id = latchkey::crypto::new_id("oa");
    app.client_id = "bench_client";
    app.name = "bench";
    std::string const secret = "bench-secret";
    app.secret_digest = api::oauth::digest_hex(secret);
    app.redirect_uris = {"https://rp.example/cb"};
    app.scopes = "openid profile email";
    std::string user_id;
    f.h.env.db().with_read([&](store::read_txn& t) -> store::result<void> {
        user_id = t.sessions().get(f.who.session.id)->value().user_id;
        return {};
    });
    out.refresh = "ort_bench_refresh_0";
    out.access = "oat_bench_access_0";
    store::oauth_token_record rt;
    rt.digest = api::oauth::digest_hex(out.refresh);
    rt.kind = "refresh";
    rt.client_id = app.client_id;
    rt.user_id = user_id;
    rt.scopes = app.scopes;
    rt.family_id = "oaf_bench";
    rt.created_at = now;
    rt.expires_at = now + 3600LL * 1000 * 24 * 365;
    auto at = rt;
    at.digest = api::oauth::digest_hex(out.access);
    at.kind = "access";
    at.id = "oat_bench";
    auto r = f.h.env.db().with_write([&](store::write_txn& w) -> store::result<void> {
        if (auto x = w.oauth().put_app(app, true); !x) return x;
        if (auto x = w.oauth().put_token(rt); !x) return x;
        return w.oauth().put_token(at);
    });
    if (!r) throw std::runtime_error("seed_oauth: " + r.error().message());
    out.basic = "Basic " + latchkey::crypto::base64_encode(app.client_id + ":" + secret);
    return out;
}

void BM_dispatch_oauth_token_refresh(benchmark::State& state) {
    fixture f;
    auto o = seed_oauth(f);
    std::string refresh = o.refresh;
    for (auto _ : state) {
        request req = make(http::verb::post, "/oauth/token", "");
        req.set(http::field::authorization, o.basic);
        req.body() = "grant_type=refresh_token&refresh_token=" + refresh;
        req.prepare_payload();
        response res;
        if (f.h.run(req, res) != 200) {
            state.SkipWithError(("status " + std::to_string(res.result_int()) + ": " + res.body()).c_str());
            break;
        }
        refresh = boost::json::parse(res.body()).at("refresh_token").as_string().c_str();
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_dispatch_oauth_token_refresh);

void BM_dispatch_oauth_userinfo(benchmark::State& state) {
    fixture f;
    auto o = seed_oauth(f);
    request proto = make(http::verb::get, "/oauth/userinfo", "");
    proto.set(http::field::authorization, "Bearer " + o.access);
    loop(state, f, proto);
}
BENCHMARK(BM_dispatch_oauth_userinfo);

}  // namespace
