// BAPI clients: list, get, verify a session token back to its client, and handshake payloads.
#include "server/api/backend/handlers.hpp"

#include "crypto/jws.hpp"
#include "server/api/backend/common.hpp"
#include "server/api/views.hpp"

#include <boost/json/parse.hpp>

namespace latchkey::server::api::backend {

namespace json = boost::json;

namespace {

store::result<json::object> render_client(app& a, store::txn const& t, store::client_record const& c) {
    std::vector<store::session_record> sessions;
    for (auto const& id : c.session_ids) {
        auto s = a.db.get_session(t, id);
        if (!s) return s.error();
        if (*s) sessions.push_back(std::move(**s));
    }
    return views::backend_client(c, sessions);
}

}  // namespace

api_result<reply> list_clients(app& a, request_ctx& ctx) {
    auto p = paging(ctx);
    if (!p) return p.error();
    std::size_t total = 0;
    auto r = a.db.with_read([&](store::read_txn& t) -> store::result<json::array> {
        auto list = a.db.list_clients(t, p->first, p->second, &total);
        if (!list) return list.error();
        json::array out;
        for (auto const& c : *list) {
            auto j = render_client(a, t, c);
            if (!j) return j.error();
            out.push_back(std::move(*j));
        }
        return out;
    });
    if (!r) return store_error(r.error(), "list_clients");
    auto const* paginated = ctx.query.find("paginated");
    if (paginated == nullptr || *paginated != "true") return json_reply(*r);
    return json_reply(json::object{{"data", std::move(*r)}, {"total_count", total}});
}

api_result<reply> get_client(app& a, request_ctx& ctx) {
    auto r = a.db.with_read([&](store::read_txn& t) -> store::result<api_result<json::object>> {
        auto c = a.db.get_client(t, ctx.params.get("client_id"));
        if (!c) return c.error();
        if (!*c) return api_result<json::object>(not_found());
        auto j = render_client(a, t, **c);
        if (!j) return j.error();
        return api_result<json::object>(std::move(*j));
    });
    if (!r) return store_error(r.error(), "get_client");
    if (!*r) return r->error();
    return json_reply(**r);
}

api_result<reply> verify_client(app& a, request_ctx& ctx) {
    auto token = body_string(ctx, "token", 16384);
    if (!token) return token.error();
    if (!*token || (*token)->empty()) return param_error(code::form_param_missing, "token");
    auto invalid = [](std::string_view why) {
        return param_error(code::form_param_value_invalid, "token", why);
    };
    auto parts = crypto::parse_jws(**token);
    if (!parts) return invalid("The token is not a valid JWT.");
    boost::system::error_code ec;
    auto header = json::parse(parts->header_json, ec);
    if (ec || !header.is_object()) return invalid("The token header is invalid.");
    auto const* alg = header.get_object().if_contains("alg");
    auto const* kid = header.get_object().if_contains("kid");
    if (alg == nullptr || !alg->is_string() || alg->get_string() != "RS256") return invalid("Unsupported algorithm.");
    auto const* key = kid != nullptr && kid->is_string() ? a.keys.find(kid->get_string()) : nullptr;
    if (key == nullptr) return invalid("The token was not signed by this instance.");
    if (!crypto::verify_rs256(key->get(), *parts)) return invalid("The token signature is invalid.");
    auto payload = json::parse(parts->payload_json, ec);
    if (ec || !payload.is_object()) return invalid("The token payload is invalid.");
    auto const& claims = payload.get_object();
    std::int64_t const now_s = ctx.now / 1000;
    auto const* exp = claims.if_contains("exp");
    if (exp == nullptr || !exp->is_int64() || exp->get_int64() <= now_s - 5) return invalid("The token has expired.");
    if (auto const* nbf = claims.if_contains("nbf"); nbf != nullptr && nbf->is_int64() && nbf->get_int64() > now_s + 5)
        return invalid("The token is not valid yet.");
    auto const* sid = claims.if_contains("sid");
    if (sid == nullptr || !sid->is_string()) return invalid("The token has no session.");
    auto r = a.db.with_read([&](store::read_txn& t) -> store::result<api_result<json::object>> {
        auto s = a.db.get_session(t, sid->get_string());
        if (!s) return s.error();
        if (!*s || !views::session_live(**s, ctx.now))
            return api_result<json::object>(invalid("The token's session is not active."));
        auto c = a.db.get_client(t, (*s)->client_id);
        if (!c) return c.error();
        if (!*c) return api_result<json::object>(not_found());
        auto j = render_client(a, t, **c);
        if (!j) return j.error();
        return api_result<json::object>(std::move(*j));
    });
    if (!r) return store_error(r.error(), "verify_client");
    if (!*r) return r->error();
    return json_reply(**r);
}

api_result<reply> get_handshake_payload(app& a, request_ctx& ctx) {
    auto const* nonce = ctx.query.find("nonce");
    if (nonce == nullptr || nonce->empty()) return param_error(code::form_param_missing, "nonce");
    if (nonce->size() > 256) return param_error(code::form_param_value_invalid, "nonce");
    // Single use: the payload carries a session token, so it is deleted as it is read.
    std::string const key = "handshake_nonce:" + *nonce;
    auto v = a.db.with_write([&](store::write_txn& w) -> store::result<std::optional<std::string>> {
        auto got = a.db.get_meta(w, key);
        if (!got) return got.error();
        if (*got)
            if (auto r = a.db.delete_meta(w, key); !r) return r.error();
        return got;
    });
    if (!v) return store_error(v.error(), "handshake_payload");
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
