#include "server/api/console/counters.hpp"

#include "server/log.hpp"

#include <array>
#include <string>

namespace latchkey::server::api::console {

namespace {

constexpr std::array<std::pair<char, std::int64_t>, 3> grains{{{'m', minute_ms}, {'h', hour_ms}, {'d', day_ms}}};

std::string series(std::string_view name, char grain) {
    std::string s(name);
    s += '@';
    s += grain;
    return s;
}

/// The strategy a sign-in step named (its form's `strategy`), or what the route implies.
std::string_view strategy_of(request_ctx const& ctx) {
    if (auto const* s = ctx.form.find("strategy"); s != nullptr && !s->empty() && s->size() <= 40) {
        std::string_view v = *s;
        if (v.starts_with("oauth_")) return "oauth";
        if (v.starts_with("web3_")) return "web3";
        return v;
    }
    if (ctx.path.starts_with("/v1/oauth_callback")) return "oauth";
    if (ctx.path.starts_with("/v1/saml/")) return "saml";
    if (ctx.path.starts_with("/v1/verify")) return "email_link";
    if (ctx.path.starts_with("/v1/tickets/")) return "ticket";
    return "other";
}

}  // namespace

store::result<void> count(store::write_txn& w, std::string_view name, std::int64_t now_ms) {
    for (auto const& [g, width] : grains)
        if (auto r = w.console().bump(series(name, g), now_ms - now_ms % width); !r) return r;
    return {};
}

store::result<void> count_active(store::write_txn& w, std::int64_t previous_ms, std::int64_t now_ms) {
    for (auto const& [g, width] : grains) {
        auto const bucket = now_ms - now_ms % width;
        if (previous_ms > 0 && previous_ms - previous_ms % width == bucket) continue;  // already counted there
        if (auto r = w.console().bump(series("active_sessions", g), bucket); !r) return r;
    }
    return {};
}

store::result<void> count_session_start(store::write_txn& w, request_ctx const& ctx) {
    if (ctx.path.find("/sign_ups") != std::string::npos) {
        if (auto r = count(w, "sign_ups", ctx.now); !r) return r;
    } else {
        if (auto r = count(w, "sign_ins.ok", ctx.now); !r) return r;
        if (auto r = count(w, std::string("sign_ins.ok.") + std::string(strategy_of(ctx)), ctx.now); !r) return r;
    }
    return count_active(w, 0, ctx.now);
}

void count_sign_in_refusal(app& a, request_ctx const& ctx, std::string_view pattern, api_error const& e) {
    if (!pattern.starts_with("/v1/client/sign_ins")) return;
    static constexpr code refusals[] = {
        code::form_password_incorrect,   code::form_code_incorrect, code::user_locked, code::user_banned,
        code::form_identifier_not_found, code::verification_failed};
    bool refused = false;
    for (auto r : refusals) refused = refused || e.code == r;
    if (!refused) return;
    auto r = a.db.with_write([&](store::write_txn& w) { return count(w, "sign_ins.failed", ctx.now); });
    if (!r) log::warn("console_counter_failed", {{"error", r.error().message()}});
}

}  // namespace latchkey::server::api::console
