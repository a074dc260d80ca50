#include "server/api/frontend/identity.hpp"
#include "server/api/txn.hpp"

#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "crypto/ossl.hpp"
#include "crypto/random.hpp"
#include "server/api/domain/client_credentials.hpp"
#include "server/api/frontend/common.hpp"

#include <algorithm>

namespace latchkey::server::api::frontend {

std::optional<std::string> verify_client_token(app const& a, store::read_txn const& t, std::string_view token) {
    auto parts = split_client_credential(token);
    if (!parts) return std::nullopt;
    auto c = t.clients().get(parts->first);
    if (!c || !*c || !credential_matches(a, **c, parts->second)) return std::nullopt;
    return std::string(parts->first);
}

void send_client_credential(app const& a, request_ctx& ctx, std::string const& token) {
    if (ctx.native) {
        std::erase_if(ctx.headers, [](auto const& h) { return h.first == "Authorization"; });
        ctx.headers.emplace_back("Authorization", token);
        return;
    }
    std::erase_if(ctx.set_cookies, [](std::string const& c) { return c.starts_with("__client="); });
    ctx.set_cookies.push_back("__client=" + token +
                              cookie_attrs(a, ctx, a.cfg.client_cookie_lifetime.count(), true, false));
}

api_result<void> rotate_client_credential(app& a, request_ctx& ctx, store::write_txn& w, store::client_record& client) {
    if (!ctx.dev_browser_id.empty()) {
        // A dev browser is the client's credential: a new token bound to the client replaces the old one.
        auto d = w.dev_browsers().get(ctx.dev_browser_id);
        if (!d) return store_failure(d.error(), "get_dev_browser");
        store::dev_browser_record next;
        next.id = "dvb_" + crypto::random_token(24);
        next.client_id = client.id;
        next.created_at = *d ? (*d)->created_at : ctx.now;
        if (auto r = w.dev_browsers().put(next); !r) return store_failure(r.error(), "put_dev_browser");
        if (auto r = w.dev_browsers().remove(ctx.dev_browser_id); !r)
            return store_failure(r.error(), "delete_dev_browser");
        client.dev_browser_id = next.id;
        ctx.dev_browser_id = next.id;
        std::erase_if(ctx.headers, [](auto const& h) { return h.first == "Clerk-Db-Jwt"; });
        ctx.headers.emplace_back("Clerk-Db-Jwt", next.id);
        return {};
    }
    send_client_credential(a, ctx, new_client_credential(client));
    return {};
}

std::string const* find_cookie(app const& a, request_ctx const& ctx, std::string_view name) {
    std::string suffixed(name);
    suffixed += '_';
    suffixed += a.inst.cookie_suffix;
    if (auto const* v = ctx.cookies.find(suffixed)) return v;
    return ctx.cookies.find(name);
}

api_result<void> resolve_identity(app& a, request_ctx& ctx) {
    // 1. Dev browser (development instances): query parameter first, then cookie.
    std::string const* db_token = ctx.query.find("__clerk_db_jwt");
    if (db_token == nullptr || db_token->empty()) db_token = find_cookie(a, ctx, "__clerk_db_jwt");
    if (db_token != nullptr && !db_token->empty() && !a.inst.production) {
        auto rec = txn::read(a, "dev_browser", [&](store::read_txn& r) { return r.dev_browsers().get(*db_token); });
        if (!rec || !*rec) return make_error(code::dev_browser_unauthenticated);
        ctx.dev_browser_id = (*rec)->id;
        ctx.client_id = (*rec)->client_id;
        return {};
    }
    // 2. Native: the raw client credential in Authorization.
    if (auto it = ctx.req.find(http::field::authorization); it != ctx.req.end() && !it->value().empty()) {
        std::string_view v = it->value();
        if (v.starts_with("Bearer ")) v.remove_prefix(7);
        auto id =
            txn::read(a, "client_credential", [&](store::read_txn& r) -> store::result<std::optional<std::string>> {
                return verify_client_token(a, r, v);
            });
        if (id && *id) {
            ctx.client_id = std::move(**id);
            ctx.native = true;
            return {};
        }
        return make_error(code::authentication_invalid);
    }
    // 3. The __client cookie. A credential that is not current is ignored (the browser starts a new client).
    if (auto const* c = ctx.cookies.find("__client")) {
        auto id = txn::read(a, "client_cookie", [&](store::read_txn& r) -> store::result<std::optional<std::string>> {
            return verify_client_token(a, r, *c);
        });
        if (id && *id) {
            ctx.client_id = std::move(**id);
            ctx.cookie_auth = true;
        }
    }
    return {};
}

}  // namespace latchkey::server::api::frontend
