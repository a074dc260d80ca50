#include "server/api/frontend/identity.hpp"

#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "crypto/ossl.hpp"

namespace latchkey::server::api::frontend {

namespace {
std::string client_mac(app const& a, std::string_view client_id) {
    std::string msg = "client:";
    msg += client_id;
    return crypto::base64url_encode(crypto::hmac_sha256(a.inst.code_key, msg));
}
}  // namespace

std::string make_client_token(app const& a, std::string_view client_id) {
    std::string t(client_id);
    t += '.';
    t += client_mac(a, client_id);
    return t;
}

std::optional<std::string> verify_client_token(app const& a, std::string_view token) {
    if (token.size() > 200) return std::nullopt;
    auto dot = token.find('.');
    if (dot == std::string_view::npos || dot == 0) return std::nullopt;
    std::string_view id = token.substr(0, dot);
    if (!id.starts_with("client_")) return std::nullopt;
    if (!crypto::equal_ct(token.substr(dot + 1), client_mac(a, id))) return std::nullopt;
    return std::string(id);
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
        auto rec = a.db.with_read([&](store::read_txn& r) { return a.db.get_dev_browser(r, *db_token); });
        if (!rec || !*rec) return make_error(code::dev_browser_unauthenticated);
        ctx.dev_browser_id = (*rec)->id;
        ctx.client_id = (*rec)->client_id;
        return {};
    }
    // 2. Native: the raw client credential in Authorization.
    if (auto it = ctx.req.find(http::field::authorization); it != ctx.req.end() && !it->value().empty()) {
        std::string_view v = it->value();
        if (v.starts_with("Bearer ")) v.remove_prefix(7);
        if (auto id = verify_client_token(a, v)) {
            ctx.client_id = *id;
            ctx.native = true;
            return {};
        }
        return make_error(code::authentication_invalid);
    }
    // 3. The __client cookie.
    if (auto const* c = ctx.cookies.find("__client")) {
        if (auto id = verify_client_token(a, *c)) {
            ctx.client_id = *id;
            ctx.cookie_auth = true;
        }
    }
    return {};
}

}  // namespace latchkey::server::api::frontend
