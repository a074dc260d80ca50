// Organizations (issue 13) through the whole API layer, without sockets (as dispatch_bench.cpp): GET /v1/client
// for a signed-in user in 10 organizations vs in none (the user JSON carries each membership with its nested
// organization and permissions, kept denormalised on the user record), and the token mint with the session's
// organization active vs none (the claims are kept on the session; the mint splices them in). The token cache is
// emptied before each mint so every iteration signs.
#include "bench_app.hpp"
#include "server/api/dispatch.hpp"
#include "server/api/frontend/identity.hpp"
#include "server/api/organizations/orgs.hpp"
#include "server/api/txn.hpp"

#include <benchmark/benchmark.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/http/write.hpp>

#include <sstream>

namespace {

namespace api = latchkey::server::api;
namespace store = latchkey::store;
namespace net = boost::asio;
namespace http = boost::beast::http;
using latchkey::server::request;
using latchkey::server::response;

api::app& orgs_enabled(api::app& a) {
    const_cast<latchkey::conf::config&>(a.cfg).organizations.enabled = true;
    const_cast<latchkey::conf::config&>(a.cfg).organizations.max_allowed_memberships = 0;
    return a;
}

/// A signed-in browser whose user is in `n_orgs` organizations (admin of each); with `active`, the session has
/// the first one active.
struct fixture {
    fixture(int n_orgs, bool active) { seed(n_orgs, active); }
    latchkey::bench::bench_app env{};
    api::route_table routes = api::frontend_routes();
    net::thread_pool pool{1};
    api::api_service svc{orgs_enabled(env.app()), routes, api::api_kind::frontend, pool.get_executor()};
    net::io_context ioc{1};
    latchkey::server::connection_info ci{"127.0.0.1", false};
    std::string cookie;
    std::string session_id;

    void seed(int n_orgs, bool active) {
        auto& a = env.app();
        auto now = a.now_ms();
        auto user = latchkey::bench::sample_user(now, "ada@example.com");
        store::client_record client;
        client.id = latchkey::crypto::new_id("client");
        client.created_at = client.updated_at = now;
        auto s = latchkey::bench::sample_session(now, user.id, client.id);
        client.session_ids.push_back(s.id);
        client.last_active_session_id = s.id;
        std::string const credential = api::frontend::new_client_credential(client);
        auto r = env.db().with_write([&](store::write_txn& w) -> store::result<void> {
            if (auto x = w.users().put(user, nullptr); !x) return x;
            if (auto x = w.sessions().put(s); !x) return x;
            return w.clients().put(client);
        });
        if (!r) throw std::runtime_error("seed: " + r.error().message());
        auto made = api::txn::write<int>(a, "seed_orgs", api::txn::on_client_error::abort,
                                         [&](store::write_txn& w) -> api::api_result<int> {
                                             std::string first;
                                             for (int i = 0; i < n_orgs; ++i) {
                                                 store::organization_record o;
                                                 o.name = "Organization " + std::to_string(i);
                                                 o.slug = "organization-" + std::to_string(i);
                                                 auto c = api::orgs::create(a, w, std::move(o), user.id, now + i);
                                                 if (!c) return c.error();
                                                 if (first.empty()) first = c->id;
                                             }
                                             if (active && !first.empty()) {
                                                 auto sess = w.sessions().get(s.id);
                                                 if (!sess || !*sess)
                                                     return api::make_error(api::code::internal_clerk_error);
                                                 auto rec = **sess;
                                                 auto ch = api::orgs::select_organization(a, w, rec, first);
                                                 if (!ch) return ch.error();
                                                 if (auto x = w.sessions().put(rec); !x)
                                                     return api::make_error(api::code::internal_clerk_error);
                                             }
                                             return 0;
                                         });
        if (!made) throw std::runtime_error("seed organizations: " + made.error().long_message);
        cookie = "__client=" + credential;
        session_id = s.id;
    }
    ~fixture() { pool.join(); }

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
    r.set(http::field::cookie, cookie);
    if (v == http::verb::post) {
        r.set(http::field::content_type, "application/x-www-form-urlencoded");
        r.prepare_payload();
    }
    return r;
}

void loop(benchmark::State& state, fixture& f, request const& proto, bool uncached) {
    std::size_t bytes = 0;
    for (auto _ : state) {
        if (uncached) f.env.app().tokens.erase(f.session_id);
        request req = proto;
        response res;
        if (f.run(req, res) / 100 != 2) {
            state.SkipWithError(("status " + std::to_string(res.result_int()) + ": " + res.body()).c_str());
            break;
        }
        res.prepare_payload();
        std::ostringstream out;
        out << res;
        bytes += out.str().size();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
    state.SetItemsProcessed(state.iterations());
}

constexpr char const* client_target = "/v1/client?__clerk_api_version=2025-04-10&_clerk_js_version=5.67.0";

void BM_orgs_get_client_in_no_organization(benchmark::State& state) {
    fixture f(0, false);
    loop(state, f, make(http::verb::get, client_target, f.cookie), false);
}
BENCHMARK(BM_orgs_get_client_in_no_organization);

void BM_orgs_get_client_in_10_organizations(benchmark::State& state) {
    fixture f(10, true);
    loop(state, f, make(http::verb::get, client_target, f.cookie), false);
}
BENCHMARK(BM_orgs_get_client_in_10_organizations);

void BM_orgs_token_mint_no_organization(benchmark::State& state) {
    fixture f(0, false);
    loop(state, f, make(http::verb::post, "/v1/client/sessions/" + f.session_id + "/tokens", f.cookie), true);
}
BENCHMARK(BM_orgs_token_mint_no_organization);

void BM_orgs_token_mint_active_organization(benchmark::State& state) {
    fixture f(10, true);
    loop(state, f, make(http::verb::post, "/v1/client/sessions/" + f.session_id + "/tokens", f.cookie), true);
}
BENCHMARK(BM_orgs_token_mint_active_organization);

}  // namespace
