// BAPI clients: list, get, verify a session token back to its client, and handshake payloads.
#include "crypto/jws.hpp"
#include "server/api/backend/common.hpp"
#include "server/api/backend/handlers.hpp"
#include "server/api/domain/client_credentials.hpp"
#include "server/api/domain/tokens.hpp"
#include "server/api/txn.hpp"
#include "server/api/views.hpp"

#include <boost/json/parse.hpp>

namespace latchkey::server::api::backend {

namespace json = boost::json;

namespace {

store::result<json::object> render_client(app& /*a*/, store::read_txn const& t, store::client_record const& c,
                                          std::int64_t now_ms) {
    std::vector<store::session_record> sessions;
    for (auto const& id : c.session_ids) {
        auto s = t.sessions().get(id);
        if (!s) return s.error();
        if (*s) sessions.push_back(std::move(**s));
    }
    json::object o = views::backend_client(c, sessions);
    auto& list = o["sessions"].as_array();
    for (std::size_t i = 0; i < sessions.size() && i < list.size(); ++i)
        list[i].as_object()["status"] = effective_status(sessions[i], now_ms);
    return o;
}

/// The client `id` rendered, or 404.
store::result<api_result<json::object>> render_client_by_id(app& a, store::read_txn const& t, std::string_view id,
                                                            std::int64_t now_ms) {
    auto c = t.clients().get(id);
    if (!c) return c.error();
    if (!*c) return api_result<json::object>(not_found());
    auto j = render_client(a, t, **c, now_ms);
    if (!j) return j.error();
    return api_result<json::object>(std::move(*j));
}

/// The reply to a read txn that rendered one client (`op` names it in a store error).
api_result<reply> client_reply(api_result<json::object> const& r) {
    if (!r) return r.error();
    return json_reply(*r);
}

}  // namespace

api_result<reply> list_clients(app& a, request_ctx& ctx) {
    auto p = paging(ctx);
    if (!p) return p.error();
    std::size_t total = 0;
    auto r = txn::read(a, "list_clients", [&](store::read_txn& t) -> store::result<json::array> {
        auto list = t.clients().list(p->first, p->second, &total);
        if (!list) return list.error();
        json::array out;
        for (auto const& c : *list) {
            auto j = render_client(a, t, c, ctx.now);
            if (!j) return j.error();
            out.push_back(std::move(*j));
        }
        return out;
    });
    if (!r) return r.error();
    if (!paginated(ctx)) return json_reply(*r);
    return json_reply(json::object{{"data", std::move(*r)}, {"total_count", total}});
}

api_result<reply> get_client(app& a, request_ctx& ctx) {
    auto r = txn::read(a, "get_client", [&](store::read_txn& t) -> store::result<api_result<json::object>> {
        return render_client_by_id(a, t, ctx.params.get("client_id"), ctx.now);
    });
    return client_reply(r);
}

api_result<reply> verify_client(app& a, request_ctx& ctx) {
    // The token is either the browser's client credential (the `__client` cookie value, which is
    // what
    // @clerk/backend's clients.verifyClient() is usually given) or a session JWT from `__session`.
    auto token = required_body_string(ctx, "token", crypto::max_jws_bytes);
    if (!token) return token.error();
    // A client credential is "client_<id>.<secret>"; anything else must be a session JWT.
    auto const credential = domain::split_client_credential(*token);
    std::string sid;
    if (!credential) {
        auto claims = domain::verify_session_token(a, *token, ctx.now);
        if (!claims) return claims.error();
        sid = std::string(claims->at("sid").get_string());
    }
    auto r = txn::read(a, "verify_client", [&](store::read_txn& t) -> store::result<api_result<json::object>> {
        std::string client_id;
        if (credential) {
            client_id = std::string(credential->first);
            auto c = t.clients().get(client_id);
            if (!c) return c.error();
            // Only the current credential of an existing client verifies (it rotates on sign-in and sign-out).
            if (*c && !domain::credential_matches(a, **c, credential->second))
                return api_result<json::object>(param_error(code::form_param_value_invalid, "token",
                                                            "The token is not a current client credential."));
        } else {
            auto s = t.sessions().get(sid);
            if (!s) return s.error();
            if (!*s || !views::session_live(**s, ctx.now))
                return api_result<json::object>(
                    param_error(code::form_param_value_invalid, "token", "The token's session is not active."));
            client_id = (*s)->client_id;
        }
        // A credential whose client was deleted (sign-out with persistClient=false) is dead: 404.
        return render_client_by_id(a, t, client_id, ctx.now);
    });
    return client_reply(r);
}

api_result<reply> get_handshake_payload(app& a, request_ctx& ctx) {
    auto const* nonce = ctx.query.find("nonce");
    if (nonce == nullptr || nonce->empty()) return param_error(code::form_param_missing, "nonce");
    if (nonce->size() > 256) return param_error(code::form_param_value_invalid, "nonce");
    // Single use: the payload carries a session token, so it is deleted as it is read.
    std::string const key = "handshake_nonce:" + *nonce;
    auto v = txn::write(a, "handshake_payload", txn::on_client_error::abort,
                        [&](store::write_txn& w) -> store::result<std::optional<std::string>> {
                            auto got = w.meta().get(key);
                            if (!got) return got.error();
                            if (*got)
                                if (auto r = w.meta().remove(key); !r) return r.error();
                            return got;
                        });
    if (!v) return v.error();
    if (!*v) return not_found();
    boost::system::error_code ec;
    auto doc = json::parse(**v, ec);
    if (ec || !doc.is_object()) return not_found();
    auto const* exp = doc.get_object().if_contains("exp");
    auto const* directives = doc.get_object().if_contains("directives");
    if (exp == nullptr || !exp->is_int64() || exp->get_int64() < ctx.now || directives == nullptr) return not_found();
    return json_reply(json::object{{"directives", *directives}});
}

}  // namespace latchkey::server::api::backend
