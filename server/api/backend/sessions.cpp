// BAPI sessions: list (paginated), get, revoke, legacy verify, and token minting (plain and templated).
#include "server/api/backend/handlers.hpp"

#include "crypto/jws.hpp"
#include "server/api/backend/common.hpp"
#include "server/api/frontend/common.hpp"
#include "server/api/templates.hpp"
#include "server/api/views.hpp"

#include <boost/json/parse.hpp>

namespace latchkey::server::api::backend {

namespace json = boost::json;

namespace {

bool paginated(request_ctx const& ctx) {
    auto const* p = ctx.query.find("paginated");
    return p != nullptr && *p == "true";
}

api_result<store::session_record> load_session(app& a, store::txn const& t, std::string_view id) {
    auto s = a.db.get_session(t, id);
    if (!s) return store_error(s.error(), "get_session");
    if (!*s) return not_found();
    return std::move(**s);
}

api_result<reply> mint(app& a, request_ctx& ctx, std::string_view template_name) {
    auto expires = body_int(ctx, "expires_in_seconds");
    if (!expires) return expires.error();
    if (*expires && (**expires < 30 || **expires > 315360000))
        return param_error(code::form_param_value_invalid, "expires_in_seconds",
                           "expires_in_seconds must be between 30 and 315360000.");
    auto r = a.db.with_read([&](store::read_txn& t) -> store::result<api_result<std::string>> {
        auto s = load_session(a, t, ctx.params.get("session_id"));
        if (!s) return api_result<std::string>(s.error());
        if (!views::session_live(*s, ctx.now)) return api_result<std::string>(param_error(code::session_not_active, "session_id"));
        if (template_name.empty()) return frontend::mint_token(a, *s, {}, ctx.now, nullptr, expires->value_or(0));
        auto tpl = a.db.jwt_template_by_name(t, template_name);
        if (!tpl) return tpl.error();
        if (!*tpl) return api_result<std::string>(not_found());
        auto u = a.db.get_user(t, s->user_id);
        if (!u) return u.error();
        if (!*u) return api_result<std::string>(not_found());
        auto claims = render_template_claims(a, **tpl, **u, *s);
        return frontend::mint_token(a, *s, {}, ctx.now, &claims, expires->value_or((*tpl)->lifetime));
    });
    if (!r) return store_error(r.error(), "mint");
    if (!*r) {
        auto e = r->error();
        // Session not active is not an authentication problem on the Backend API: a 422-free 404-style answer
        // would hide it, so say it plainly.
        if (e.code == "session_not_active") e.status = http::status::bad_request;
        return e;
    }
    return json_reply(json::object{{"object", "token"}, {"jwt", **r}});
}

}  // namespace

api_result<reply> list_sessions(app& a, request_ctx& ctx) {
    auto p = paging(ctx);
    if (!p) return p.error();
    std::string user_id, client_id, status;
    if (auto const* v = ctx.query.find("user_id")) user_id = *v;
    if (auto const* v = ctx.query.find("client_id")) client_id = *v;
    if (auto const* v = ctx.query.find("status")) status = *v;
    if (!status.empty()) {
        static constexpr std::string_view allowed[] = {"abandoned", "active", "ended", "expired", "removed",
                                                       "replaced", "revoked", "pending"};
        bool ok = false;
        for (auto x : allowed) ok = ok || x == status;
        if (!ok) return param_error(code::form_param_value_invalid, "status");
    }
    std::size_t total = 0;
    auto list = a.db.with_read([&](store::read_txn& t) {
        return a.db.list_sessions(t, user_id, client_id, status, p->first, p->second, &total);
    });
    if (!list) return store_error(list.error(), "list_sessions");
    json::array data;
    for (auto const& s : *list) data.push_back(views::backend_session(s));
    if (!paginated(ctx)) return json_reply(data);
    return json_reply(json::object{{"data", std::move(data)}, {"total_count", total}});
}

api_result<reply> get_session(app& a, request_ctx& ctx) {
    auto s = a.db.with_read([&](store::read_txn& t) -> store::result<api_result<store::session_record>> {
        return load_session(a, t, ctx.params.get("session_id"));
    });
    if (!s) return store_error(s.error(), "get_session");
    if (!*s) return s->error();
    return json_reply(views::backend_session(**s));
}

api_result<reply> revoke_session(app& a, request_ctx& ctx) {
    store::session_record out;
    auto w = a.db.with_write([&](store::write_txn& tx) -> store::result<api_result<void>> {
        auto s = load_session(a, tx, ctx.params.get("session_id"));
        if (!s) return api_result<void>(s.error());
        if (views::session_live(*s, ctx.now)) {
            s->status = "revoked";
            s->updated_at = ctx.now;
            if (auto r = a.db.put_session(tx, *s); !r) return r.error();
            // The browser's signed-in state changed: bump its client so __client_uat moves on.
            auto c = a.db.get_client(tx, s->client_id);
            if (!c) return c.error();
            if (*c) {
                auto rec = **c;
                rec.updated_at = ctx.now;
                if (auto r = a.db.put_client(tx, rec); !r) return r.error();
            }
        }
        a.tokens.erase(s->id);
        out = *s;
        return api_result<void>();
    });
    if (!w) return store_error(w.error(), "revoke_session");
    if (!*w) return w->error();
    return json_reply(views::backend_session(out));
}

api_result<reply> verify_session(app& a, request_ctx& ctx) {
    auto token = body_string(ctx, "token", 16384);
    if (!token) return token.error();
    if (!*token || (*token)->empty()) return param_error(code::form_param_missing, "token");
    auto parts = crypto::parse_jws(**token);
    if (!parts) return param_error(code::form_param_value_invalid, "token", "The token is not a valid JWT.");
    boost::system::error_code ec;
    auto header = json::parse(parts->header_json, ec);
    if (ec || !header.is_object()) return param_error(code::form_param_value_invalid, "token");
    auto const* kid = header.get_object().if_contains("kid");
    auto const* key = kid != nullptr && kid->is_string() ? a.keys.find(kid->get_string()) : nullptr;
    if (key == nullptr || !crypto::verify_rs256(key->get(), *parts))
        return param_error(code::form_param_value_invalid, "token", "The token signature is invalid.");
    auto payload = json::parse(parts->payload_json, ec);
    if (ec || !payload.is_object()) return param_error(code::form_param_value_invalid, "token");
    auto const* sid = payload.get_object().if_contains("sid");
    if (sid == nullptr || !sid->is_string() || sid->get_string() != ctx.params.get("session_id"))
        return param_error(code::form_param_value_invalid, "token", "The token belongs to another session.");
    return get_session(a, ctx);
}

api_result<reply> create_session_token(app& a, request_ctx& ctx) { return mint(a, ctx, {}); }

api_result<reply> create_session_template_token(app& a, request_ctx& ctx) {
    return mint(a, ctx, ctx.params.get("template_name"));
}

}  // namespace latchkey::server::api::backend
