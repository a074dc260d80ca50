// Sign-in with a password alone vs a password + TOTP second factor (issue 14), the whole API layer without
// sockets (api_service::handle over the real route table and LMDB), in the same run. Each iteration is a fresh
// browser: POST /v1/client/sign_ins (identifier + password: argon2 on the hash pool), and for the TOTP user
// POST .../attempt_second_factor with the current code. The clock moves one TOTP step per iteration (codes are
// single use per step) — which also keeps the per-minute rate limits out of the way.
#include "crypto/password.hpp"
#include "crypto/totp.hpp"
#include "frontend_harness.hpp"
#include "server/api/domain/mfa.hpp"

#include <boost/json/parse.hpp>

namespace {

namespace api = latchkey::server::api;
namespace store = latchkey::store;
namespace http = boost::beast::http;
using latchkey::server::response;

constexpr char const* password = "correct horse battery staple";
std::string const totp_secret = "12345678901234567890";

struct fixture {
    fixture() { seed(); }
    latchkey::bench::frontend_harness h{[](latchkey::conf::config& c) {
        c.second_factors = {"totp", "backup_code"};
        c.protection.rate_per_ip_per_minute = 1'000'000;
    }};
    latchkey::bench::bench_app& env = h.env;

    void seed() {
        auto& a = env.app();
        auto const now = a.now_ms();
        auto digest = latchkey::crypto::hash_password(password);
        if (!digest) throw std::runtime_error("hash");
        auto plain = latchkey::bench::sample_user(now, "plain@example.com", *digest);
        auto mfa = latchkey::bench::sample_user(now, "mfa@example.com", *digest);
        api::domain::set_totp_secret(mfa, *a.inst.seal_key, totp_secret, true, now);
        api::domain::refresh_second_factor_flags(mfa);
        auto r = env.db().with_write([&](store::write_txn& w) -> store::result<void> {
            if (auto x = w.users().put(plain, nullptr); !x) return x;
            return w.users().put(mfa, nullptr);
        });
        if (!r) throw std::runtime_error("seed: " + r.error().message());
    }

    response post(std::string const& target, std::string const& form, std::string const& cookie) {
        auto req = latchkey::bench::browser_request(http::verb::post, target, cookie, form);
        response res;
        h.run(req, res);
        return res;
    }
};

std::string client_cookie(response const& res) {
    for (auto const& f : res.base())
        if (f.name() == http::field::set_cookie && f.value().starts_with("__client="))
            return std::string(f.value().substr(0, f.value().find(';')));
    return {};
}

void sign_in(benchmark::State& state, char const* email, bool totp) {
    fixture f;
    auto& a = f.env.app();
    std::string const form =
        std::string("identifier=") + email + "&strategy=password&password=correct+horse+battery+staple";
    for (auto _ : state) {
        a.clock_offset_ms += 30'000;  // next TOTP step
        auto res = f.post("/v1/client/sign_ins", form, {});
        auto body = boost::json::parse(res.body());
        auto const& r = body.at("response");
        if (res.result_int() != 200 || r.at("status") != (totp ? "needs_second_factor" : "complete")) {
            state.SkipWithError(("sign-in: " + res.body()).c_str());
            break;
        }
        if (!totp) continue;
        std::string const id(r.at("id").as_string());
        auto const code = latchkey::crypto::totp(totp_secret, a.now_ms() / 1000);
        auto two = f.post("/v1/client/sign_ins/" + id + "/attempt_second_factor", "strategy=totp&code=" + code,
                          client_cookie(res));
        if (two.result_int() != 200 || boost::json::parse(two.body()).at("response").at("status") != "complete") {
            state.SkipWithError(("second factor: " + two.body()).c_str());
            break;
        }
    }
    state.SetItemsProcessed(state.iterations());
}

void BM_sign_in_password(benchmark::State& state) { sign_in(state, "plain@example.com", false); }
BENCHMARK(BM_sign_in_password)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_sign_in_password_totp(benchmark::State& state) { sign_in(state, "mfa@example.com", true); }
BENCHMARK(BM_sign_in_password_totp)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
