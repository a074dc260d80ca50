// BAPI sessions: list (paginated), get, revoke, legacy verify, and token minting (plain and
// templated).
#include "server/api/domain/sessions.hpp"
#include "crypto/jws.hpp"
#include "server/api/backend/common.hpp"
#include "server/api/backend/handlers.hpp"
#include "server/api/domain/tokens.hpp"
#include "server/api/events.hpp"
#include "server/api/templates.hpp"
#include "server/api/txn.hpp"
#include "server/api/views.hpp"

#include <boost/json/parse.hpp>

#include <limits>
#include <optional>

namespace latchkey::server::api::backend {

namespace json = boost::json;

namespace {

api_result<store::session_record> load_session(app& /*a*/, store::read_txn const& t, std::string_view id) {
    return found(t.sessions().get(id), "get_session");
}

/// The session named by the `session_id` path parameter, read in its own txn (404 if unknown).
api_result<store::session_record> read_session(app& a, request_ctx const& ctx) {
    return txn::read(a, "get_session",
                     [&](store::read_txn& t) { return load_session(a, t, ctx.params.get("session_id")); });
}

api_result<reply> mint(app& a, request_ctx& ctx, std::string_view template_name) {
    auto expires = body_int(ctx, "expires_in_seconds");
    if (!expires) return expires.error();
    if (*expires && (**expires < 30 || **expires > 315360000))
        return param_error(code::form_param_value_invalid, "expires_in_seconds",
                           "expires_in_seconds must be between 30 and 315360000.");

    struct loaded {
        store::session_record session;
        std::optional<json::object> claims;  ///< rendered template claims
        std::int64_t lifetime_s = 0;
    };

    // Read in the txn; sign (RSA) after it is closed.
    auto r = txn::read(a, "mint", [&](store::read_txn& t) -> store::result<api_result<loaded>> {
        auto s = load_session(a, t, ctx.params.get("session_id"));
        if (!s) return api_result<loaded>(s.error());
        // A session that is no longer live (ended, revoked, expired...) gets 401
        // session_not_active, one of the two statuses the spec documents for this endpoint (404 is
        // for unknown sessions and templates).
        if (!views::session_live(*s, ctx.now)) return api_result<loaded>(make_error(code::session_not_active));
        loaded out{*s, std::nullopt, expires->value_or(0)};
        if (template_name.empty()) return api_result<loaded>(std::move(out));
        auto tpl = t.jwt_templates().by_name(template_name);
        if (!tpl) return tpl.error();
        if (!*tpl) return api_result<loaded>(not_found());
        auto u = t.users().get(s->user_id);
        if (!u) return u.error();
        if (!*u) return api_result<loaded>(not_found());
        out.claims = render_template_claims(a, **tpl, **u, *s);
        if (!*expires) out.lifetime_s = (*tpl)->lifetime;
        return api_result<loaded>(std::move(out));
    });
    if (!r) return r.error();
    auto const& l = *r;
    auto jwt = domain::mint_session_token(a, l.session, {}, ctx.now, l.claims ? &*l.claims : nullptr, l.lifetime_s);
    if (!jwt) return jwt.error();
    return json_reply(json::object{{"object", "token"}, {"jwt", *jwt}});
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
        static constexpr std::string_view allowed[] = {"abandoned", "active",   "ended",   "expired",
                                                       "removed",   "replaced", "revoked", "pending"};
        bool ok = false;
        for (auto x : allowed) ok = ok || x == status;
        if (!ok) return param_error(code::form_param_value_invalid, "status");
    }
    // The stored status of a live-looking session may be stale (past expire_at): "active",
    // "pending" and "expired" filter on the effective status, in memory; the other statuses are
    // final and filter in the store.
    bool const by_effective = status == "active" || status == "pending" || status == "expired";
    std::size_t total = 0;
    auto list =
        txn::read(a, "list_sessions", [&](store::read_txn& t) -> store::result<std::vector<store::session_record>> {
            if (!by_effective) return t.sessions().list(user_id, client_id, status, p->first, p->second, &total);
            std::size_t all = 0;
            auto candidates = t.sessions().list(user_id, client_id, status == "expired" ? "" : status,
                                                std::numeric_limits<std::size_t>::max(), 0, &all);
            if (!candidates) return candidates.error();
            std::vector<store::session_record> page;
            for (auto& s : *candidates) {
                if (effective_status(s, ctx.now) != status) continue;
                if (total >= p->second && page.size() < p->first) page.push_back(std::move(s));
                ++total;
            }
            return page;
        });
    if (!list) return list.error();
    json::array data;
    for (auto const& s : *list) data.push_back(session_view(s, ctx.now));
    if (!paginated(ctx)) return json_reply(data);
    return json_reply(json::object{{"data", std::move(data)}, {"total_count", total}});
}

api_result<reply> get_session(app& a, request_ctx& ctx) {
    auto s = read_session(a, ctx);
    if (!s) return s.error();
    return json_reply(session_view(*s, ctx.now));
}

api_result<reply> revoke_session(app& a, request_ctx& ctx) {
    store::session_record out;
    auto w = txn::write(a, "revoke_session", txn::on_client_error::commit,
                        [&](store::write_txn& tx) -> store::result<api_result<void>> {
                            auto s = load_session(a, tx, ctx.params.get("session_id"));
                            if (!s) return api_result<void>(s.error());
                            if (views::session_live(*s, ctx.now)) {
                                s->status = "revoked";
                                s->updated_at = ctx.now;
                                if (auto r = tx.sessions().put(*s); !r) return r.error();
                                if (auto e = events::session_ended(a, tx, *s, &ctx); !e) return e.error();
                                // The browser's signed-in state changed: bump its client so __client_uat moves on.
                                auto c = tx.clients().get(s->client_id);
                                if (!c) return c.error();
                                if (*c) {
                                    auto rec = **c;
                                    rec.updated_at = ctx.now;
                                    if (auto r = tx.clients().put(rec); !r) return r.error();
                                }
                            }
                            domain::drop_tokens_after_commit(a, tx, {s->id});
                            out = *s;
                            return api_result<void>();
                        });
    if (!w) return w.error();
    return json_reply(session_view(out, ctx.now));
}

api_result<reply> verify_session(app& a, request_ctx& ctx) {
    auto token = required_body_string(ctx, "token", crypto::max_jws_bytes);
    if (!token) return token.error();
    auto claims = domain::verify_session_token(a, *token, ctx.now);
    if (!claims) return claims.error();
    if (claims->at("sid").get_string() != ctx.params.get("session_id"))
        return param_error(code::form_param_value_invalid, "token", "The token belongs to another session.");
    auto s = read_session(a, ctx);
    if (!s) return s.error();
    if (!views::session_live(*s, ctx.now))
        return param_error(code::form_param_value_invalid, "token", "The token's session is not active.");
    return json_reply(session_view(*s, ctx.now));
}

api_result<reply> create_session_token(app& a, request_ctx& ctx) { return mint(a, ctx, {}); }

api_result<reply> create_session_template_token(app& a, request_ctx& ctx) {
    return mint(a, ctx, ctx.params.get("template_name"));
}

}  // namespace latchkey::server::api::backend
