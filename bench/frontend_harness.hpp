#pragma once
// The FAPI service (api_service over the real route table, one hash worker) over a bench_app, driven on the
// calling thread without sockets, and a browser signed in to it: what dispatch_bench, orgs_bench and
// sign_in_mfa_bench send their requests through.
#include "bench_app.hpp"
#include "server/api/dispatch.hpp"
#include "server/metrics.hpp"

#include <benchmark/benchmark.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/http/write.hpp>

#include <cstdint>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>

namespace latchkey::bench {

namespace detail {
/// Wires (or not) the metrics registry into the app before the service registers its routes there.
inline server::api::app& with_metrics(server::api::app& a, server::metrics* m) {
    a.metrics = m;
    return a;
}
}  // namespace detail

/// A fresh production app (`tweak` edits its config) and its FAPI service; with `counted`, every request is
/// counted as the server counts it (GET /metrics).
struct frontend_harness {
    explicit frontend_harness(std::function<void(conf::config&)> const& tweak = {}, server::metrics* counted = nullptr)
        : env(false, "production", tweak),
          svc(detail::with_metrics(env.app(), counted), routes, server::api::api_kind::frontend, pool.get_executor()) {}
    ~frontend_harness() { pool.join(); }
    frontend_harness(frontend_harness const&) = delete;
    frontend_harness& operator=(frontend_harness const&) = delete;

    bench_app env;
    server::api::route_table routes = server::api::frontend_routes();
    boost::asio::thread_pool pool{1};
    server::api::api_service svc;
    boost::asio::io_context ioc{1};
    server::connection_info ci{"127.0.0.1", false};

    /// One request through api_service::handle on this thread; returns the status.
    unsigned run(server::request& req, server::response& res) {
        boost::asio::co_spawn(ioc, svc.handle(req, res, ci), boost::asio::detached);
        ioc.restart();
        ioc.run();
        return res.result_int();
    }
};

/// A browser's request as clerk-js sends it (host, user agent, accept; the cookie and a form body when given).
inline server::request browser_request(boost::beast::http::verb v, std::string target, std::string const& cookie,
                                       std::string const& form = {}) {
    server::request r{v, target, 11};
    r.set(boost::beast::http::field::host, "127.0.0.1:8080");
    r.set(boost::beast::http::field::user_agent,
          "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120 Safari/537.36");
    r.set(boost::beast::http::field::accept, "*/*");
    if (!cookie.empty()) r.set(boost::beast::http::field::cookie, cookie);
    if (v == boost::beast::http::verb::post) {
        r.set(boost::beast::http::field::content_type, "application/x-www-form-urlencoded");
        r.body() = form;
        r.prepare_payload();
    }
    return r;
}

/// Sends `proto` once per iteration and counts the bytes of the serialized answers; fails the run on a non-2xx.
/// With `uncached_session`, that session's cached token is dropped before each request (so every mint signs).
inline void measure(benchmark::State& state, frontend_harness& h, server::request const& proto,
                    std::string const* uncached_session = nullptr) {
    std::size_t bytes = 0;
    for (auto _ : state) {
        if (uncached_session != nullptr) h.env.app().tokens.erase(*uncached_session);
        server::request req = proto;
        server::response res;
        if (h.run(req, res) / 100 != 2) {
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

}  // namespace latchkey::bench
