// The whole API layer for one request, without sockets: api_service::handle (parse query/cookies/form,
// route, identity, handler, envelope, headers, CORS) for GET /v1/health, GET /v1/client (signed in) and
// the token mint, plus response serialization. The difference to the wrk numbers is the transport.
// The access log is off here (cfg.access_log = false in bench_app).
#include "bench_app.hpp"
#include "crypto/encoding.hpp"
#include "server/api/dispatch.hpp"
#include "server/api/frontend/identity.hpp"
#include "server/api/oauth/handlers.hpp"
#include "server/metrics.hpp"

#include <benchmark/benchmark.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>

#include <sstream>

namespace {

namespace api = latchkey::server::api;
namespace store = latchkey::store;
namespace net = boost::asio;
namespace http = boost::beast::http;
using latchkey::server::request;
using latchkey::server::response;

/// Wires (or not) the metrics registry into the app before the service registers its routes there.
api::app& with_metrics(api::app& a, latchkey::server::metrics* m) {
    a.metrics = m;
    return a;
}

/// A signed-in browser in a fresh app, and the FAPI service over the real route table; with `counted`, every
/// request is counted as the server counts it (GET /metrics), to measure that cost against the same run.
struct fixture {
    explicit fixture(bool count = false) : counted(count) { seed(); }
    bool counted;
    latchkey::server::metrics registry;
    latchkey::bench::bench_app env{};
    api::route_table routes = api::frontend_routes();
    net::thread_pool pool{1};
    api::api_service svc{with_metrics(env.app(), counted ? &registry : nullptr), routes, api::api_kind::frontend,
                         pool.get_executor()};
    net::io_context ioc{1};
    latchkey::server::connection_info ci{"127.0.0.1", false};
    std::string cookie;
    std::string session_id;

    void seed() {
        auto& db = env.db();
        auto now = env.app().now_ms();
        auto user = latchkey::bench::sample_user(now, "ada@example.com");
        store::client_record client;
        client.id = latchkey::crypto::new_id("client");
        client.created_at = client.updated_at = now;
        auto s = latchkey::bench::sample_session(now, user.id, client.id);
        client.session_ids.push_back(s.id);
        client.last_active_session_id = s.id;
        std::string const credential = api::frontend::new_client_credential(client);
        auto r = db.with_write([&](store::write_txn& w) -> store::result<void> {
            if (auto x = w.users().put(user, nullptr); !x) return x;
            if (auto x = w.sessions().put(s); !x) return x;
            return w.clients().put(client);
        });
        if (!r) throw std::runtime_error("seed: " + r.error().message());
        cookie = "__client=" + credential;
        session_id = s.id;
    }
    ~fixture() { pool.join(); }

    /// One request through api_service::handle on this thread; returns the status.
    unsigned run(request& req, response& res) {
        net::co_spawn(ioc, svc.handle(req, res, ci), net::detached);
        ioc.restart();
        ioc.run();
        return res.result_int();
    }
};

request make(http::verb v, std::string target, std::string const& cookie) {
    request r{v, target, 11};
    r.set(http::field::host, "127.0.0.1:8080");
    r.set(http::field::user_agent, "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120 Safari/537.36");
    r.set(http::field::accept, "*/*");
    if (!cookie.empty()) r.set(http::field::cookie, cookie);
    if (v == http::verb::post) {
        r.set(http::field::content_type, "application/x-www-form-urlencoded");
        r.prepare_payload();
    }
    return r;
}

void loop(benchmark::State& state, fixture& f, request const& proto) {
    std::size_t bytes = 0;
    for (auto _ : state) {
        request req = proto;
        response res;
        if (f.run(req, res) / 100 != 2) {
            state.SkipWithError(("status " + std::to_string(res.result_int()) + ": " + res.body()).c_str());
            break;
        }
        res.prepare_payload();
        std::ostringstream out;  // the bytes the transport would write
        out << res;
        bytes += out.str().size();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
    state.SetItemsProcessed(state.iterations());
}

void BM_dispatch_health(benchmark::State& state) {
    fixture f;
    loop(state, f, make(http::verb::get, "/v1/health", ""));
}
BENCHMARK(BM_dispatch_health);

void BM_dispatch_get_client_signed_in(benchmark::State& state) {
    fixture f;
    loop(state, f,
         make(http::verb::get, "/v1/client?__clerk_api_version=2025-04-10&_clerk_js_version=5.67.0", f.cookie));
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
         make(http::verb::get, "/v1/client?__clerk_api_version=2025-04-10&_clerk_js_version=5.67.0", f.cookie));
}
BENCHMARK(BM_dispatch_get_client_signed_in_metrics);

void BM_dispatch_token_mint(benchmark::State& state) {
    fixture f;
    loop(state, f, make(http::verb::post, "/v1/client/sessions/" + f.session_id + "/tokens", f.cookie));
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
    auto now = f.env.app().now_ms();
    store::oauth_app_record app;
    app.id = latchkey::crypto::new_id("oa");
    app.client_id = "bench_client";
    app.name = "bench";
    std::string const secret = "bench-secret";
    app.secret_digest = api::oauth::digest_hex(secret);
    app.redirect_uris = {"https://rp.example/cb"};
    app.scopes = "openid profile email";
    std::string user_id;
    f.env.db().with_read([&](store::read_txn& t) -> store::result<void> {
        user_id = t.sessions().get(f.session_id)->value().user_id;
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
    auto r = f.env.db().with_write([&](store::write_txn& w) -> store::result<void> {
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
        if (f.run(req, res) != 200) {
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
