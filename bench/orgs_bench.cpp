// Organizations (issue 13) through the whole API layer, without sockets (as dispatch_bench.cpp): GET /v1/client
// for a signed-in user in 10 organizations vs in none (the user JSON carries each membership with its nested
// organization and permissions, kept denormalised on the user record), and the token mint with the session's
// organization active vs none (the claims are kept on the session; the mint splices them in). The token cache is
// emptied before each mint so every iteration signs.
#include "frontend_harness.hpp"
#include "server/api/organizations/orgs.hpp"
#include "server/api/txn.hpp"

namespace {

namespace api = latchkey::server::api;
namespace store = latchkey::store;
namespace http = boost::beast::http;
using latchkey::bench::browser_request;

void orgs_enabled(latchkey::conf::config& c) {
    c.organizations.enabled = true;
    c.organizations.max_allowed_memberships = 0;
}

/// A signed-in browser whose user is in `n_orgs` organizations (admin of each); with `active`, the session has
/// the first one active.
struct fixture {
    fixture(int n_orgs, bool active) : who(latchkey::bench::seed_browser(h.env, h.env.app().now_ms())) {
        seed(n_orgs, active);
    }
    latchkey::bench::frontend_harness h{orgs_enabled};
    latchkey::bench::signed_in_browser who;

    void seed(int n_orgs, bool active) {
        auto& a = h.env.app();
        auto now = a.now_ms();
        std::string const& user_id = who.user.id;
        std::string const& session_id = who.session.id;
        auto made = api::txn::write<int>(a, "seed_orgs", api::txn::on_client_error::abort,
                                         [&](store::write_txn& w) -> api::api_result<int> {
                                             std::string first;
                                             for (int i = 0; i < n_orgs; ++i) {
                                                 store::organization_record o;
                                                 o.name = "Organization " + std::to_string(i);
                                                 o.slug = "organization-" + std::to_string(i);
                                                 auto c = api::orgs::create(a, w, std::move(o), user_id, now + i);
                                                 if (!c) return c.error();
                                                 if (first.empty()) first = c->id;
                                             }
                                             if (active && !first.empty()) {
                                                 auto sess = w.sessions().get(session_id);
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
    }
};

constexpr char const* client_target = "/v1/client?__clerk_api_version=2025-04-10&_clerk_js_version=5.67.0";

/// GET /v1/client of a user in `n_orgs` organizations (the first active with `active`).
void get_client(benchmark::State& state, int n_orgs, bool active) {
    fixture f(n_orgs, active);
    latchkey::bench::measure(state, f.h, browser_request(http::verb::get, client_target, f.who.cookie));
}

/// The token mint (uncached) for that user's session.
void mint(benchmark::State& state, int n_orgs, bool active) {
    fixture f(n_orgs, active);
    auto const target = "/v1/client/sessions/" + f.who.session.id + "/tokens";
    latchkey::bench::measure(state, f.h, browser_request(http::verb::post, target, f.who.cookie), &f.who.session.id);
}

void BM_orgs_get_client_in_no_organization(benchmark::State& state) { get_client(state, 0, false); }
BENCHMARK(BM_orgs_get_client_in_no_organization);

void BM_orgs_get_client_in_10_organizations(benchmark::State& state) { get_client(state, 10, true); }
BENCHMARK(BM_orgs_get_client_in_10_organizations);

void BM_orgs_token_mint_no_organization(benchmark::State& state) { mint(state, 0, false); }
BENCHMARK(BM_orgs_token_mint_no_organization);

void BM_orgs_token_mint_active_organization(benchmark::State& state) { mint(state, 10, true); }
BENCHMARK(BM_orgs_token_mint_active_organization);

}  // namespace
