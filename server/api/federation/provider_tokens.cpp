// BAPI GET /v1/users/{user_id}/oauth_access_tokens/{provider} (issue 15; @clerk/backend's
// users.getUserOauthAccessToken): the provider tokens kept for the user's accounts of that provider, opened
// from their seal. An expired access token with a kept refresh token is refreshed with the provider first (the
// route runs on the pool; the refresh happens between a read and a write, never inside a txn) and the new tokens
// are kept. Clerk's shape: an array, or {data,total_count} with paginated=true.
#include "server/api/federation/links.hpp"
#include "server/api/federation/oauth2.hpp"

#include "server/api/app.hpp"
#include "server/api/backend/common.hpp"
#include "server/api/txn.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

namespace latchkey::server::api::federation {

namespace json = boost::json;

namespace {

/// A token expiring within this margin is refreshed before it is handed out.
constexpr std::int64_t refresh_margin_ms = std::int64_t{30} * 1000;

json::object token_json(store::external_account_record const& ea, std::string const& token) {
    json::array scopes;
    std::string_view s = ea.approved_scopes;
    while (!s.empty()) {
        auto const sp = s.find_first_of(" ,");
        auto const word = s.substr(0, sp);
        if (!word.empty()) scopes.emplace_back(word);
        if (sp == std::string_view::npos) break;
        s.remove_prefix(sp + 1);
    }
    json::object o;
    o["object"] = "oauth_access_token";
    o["external_account_id"] = ea.id;
    o["provider_user_id"] = ea.provider_user_id;
    o["token"] = token;
    o["expires_at"] = ea.token_expires_at == 0 ? json::value(nullptr) : json::value(ea.token_expires_at / 1000);
    o["provider"] = ea.provider;
    o["public_metadata"] = json::object{};
    o["label"] = nullptr;
    o["scopes"] = std::move(scopes);
    return o;
}

}  // namespace

api_result<reply> get_oauth_access_tokens(app& a, request_ctx& ctx) {
    std::string const user_id(ctx.params.get("user_id"));
    std::string provider(ctx.params.get("provider"));
    if (!provider.starts_with("oauth_")) provider = "oauth_" + provider;
    auto user =
        txn::read(a, "oauth_access_tokens", [&](store::read_txn& t) -> store::result<api_result<store::user_record>> {
            auto u = t.users().get(user_id);
            if (!u) return u.error();
            if (!*u) return api_result<store::user_record>(make_error(code::resource_not_found));
            return api_result<store::user_record>(std::move(**u));
        });
    if (!user) return user.error();
    auto const* p = find_provider(a, provider);

    // Refresh what has expired (outside any txn), then keep the new tokens in one write.
    std::vector<std::pair<std::string, provider_tokens>> refreshed;  // account id -> tokens
    for (auto const& ea : user->external_accounts) {
        if (ea.provider != provider || ea.access_token_sealed.empty()) continue;
        if (ea.token_expires_at == 0 || ea.token_expires_at > ctx.now + refresh_margin_ms) continue;
        auto rt = open_refresh_token(a, ea);
        if (!rt || p == nullptr) continue;  // no refresh token: the expired token is what there is
        auto t = refresh_tokens(a, *p, *rt, ctx.now);
        if (!t) return make_error(code::oauth_token_retrieval_error);
        refreshed.emplace_back(ea.id, std::move(*t));
    }
    if (!refreshed.empty()) {
        auto w = txn::write(a, "oauth_access_tokens_refresh", txn::on_client_error::abort,
                            [&](store::write_txn& tx) -> store::result<api_result<void>> {
                                auto u = tx.users().get(user_id);
                                if (!u) return u.error();
                                if (!*u) return api_result<void>(make_error(code::resource_not_found));
                                store::user_record next = std::move(**u);
                                store::user_record const before = next;
                                for (auto& ea : next.external_accounts)
                                    for (auto const& [id, t] : refreshed)
                                        if (ea.id == id) seal_tokens(a, ea, t), ea.updated_at = ctx.now;
                                if (auto r = tx.users().put(next, &before); !r) return r.error();
                                *user = std::move(next);
                                return api_result<void>();
                            });
        if (!w) return w.error();
    }

    json::array data;
    for (auto const& ea : user->external_accounts) {
        if (ea.provider != provider) continue;
        if (auto token = open_access_token(a, ea)) data.emplace_back(token_json(ea, *token));
    }
    if (backend::paginated(ctx)) {
        auto const n = data.size();
        return backend::json_reply(json::object{{"data", std::move(data)}, {"total_count", n}});
    }
    return backend::json_reply(data);
}

}  // namespace latchkey::server::api::federation
