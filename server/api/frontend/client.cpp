// The browser's client (GET/PUT/POST/DELETE /v1/client) and the handshake that @clerk/backend relies on.
#include "server/api/frontend/handlers.hpp"
#include "server/api/txn.hpp"

#include "crypto/jws.hpp"
#include "crypto/random.hpp"
#include "server/api/dispatch.hpp"
#include "server/api/domain/sessions.hpp"
#include "server/api/domain/tokens.hpp"
#include "server/api/frontend/common.hpp"
#include "server/api/views.hpp"
#include "server/http/guard.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace latchkey::server::api::frontend {

namespace json = boost::json;

api_result<reply> get_client(app& a, request_ctx& ctx) {
    if (ctx.client_id.empty()) return reply{http::status::ok, R"({"response":null,"client":null})", {}};
    // The body is written in place: the client's JSON goes straight into it (no DOM, no second copy).
    std::string body;
    body.reserve(client_json_reserve);
    body += R"({"response":)";
    if (auto r = append_loaded_client(a, ctx, body, "get_client", rendering::reuse); !r) return r.error();
    // GET is not piggy-backed by clerk-js: the client goes in `response` only.
    body += R"(,"client":null})";
    return reply{http::status::ok, std::move(body), {}};
}

api_result<reply> create_client(app& a, request_ctx& ctx) {
    auto w = txn::write(a, "create_client", txn::on_client_error::commit,
                        [&](store::write_txn& tx) -> store::result<api_result<client_snapshot>> {
                            auto c = ensure_client(a, ctx, tx);
                            if (!c) return api_result<client_snapshot>(c.error());
                            return stage_client(a, ctx, tx);
                        });
    if (!w) return w.error();
    return client_envelope(a, ctx, *w);
}

api_result<reply> delete_client(app& a, request_ctx& ctx) {
    std::string const id = ctx.client_id;
    if (!id.empty()) {
        auto w = txn::write(a, "delete_client", txn::on_client_error::abort,
                            [&](store::write_txn& tx) -> store::result<void> {
                                auto c = tx.clients().get(id);
                                if (!c) return c.error();
                                if (!*c) return {};
                                if (auto e = domain::end_client_sessions(a, tx, **c, ctx.now, "ended"); !e)
                                    return e.error();
                                if (!ctx.dev_browser_id.empty()) {
                                    auto d = tx.dev_browsers().get(ctx.dev_browser_id);
                                    if (!d) return d.error();
                                    if (*d) {
                                        auto rec = **d;
                                        rec.client_id.clear();
                                        if (auto p = tx.dev_browsers().put(rec); !p) return p;
                                    }
                                }
                                return tx.clients().remove(id);
                            });
        if (!w) return w.error();
    }
    if (ctx.dev_browser_id.empty() && !ctx.native) {
        // The same attributes as when they were set (the same Domain), or the browser keeps the old ones.
        std::string const uat = cookie_attrs(a, ctx, 365LL * 24 * 3600, false, true);
        ctx.set_cookies.push_back("__client=" + cookie_attrs(a, ctx, 0, true, false));
        ctx.set_cookies.push_back("__client_uat=0" + uat);
        ctx.set_cookies.push_back("__client_uat_" + a.inst.cookie_suffix + "=0" + uat);
    }
    ctx.client_id.clear();
    json::object deleted;
    deleted["object"] = "client";
    deleted["id"] = id.empty() ? json::value(nullptr) : json::value(id);
    deleted["deleted"] = true;
    json::object root;
    root["response"] = std::move(deleted);
    root["client"] = nullptr;
    return reply{http::status::ok, json::serialize(root), {}};
}

api_result<reply> handshake(app& a, request_ctx& ctx) {
    auto const* raw_redirect = ctx.query.find("redirect_url");
    if (raw_redirect == nullptr || raw_redirect->empty()) return param_error(code::form_param_missing, "redirect_url");
    auto redirect = allowed_redirect(a, *raw_redirect);
    if (!redirect)
        return param_error(code::form_param_value_invalid, "redirect_url",
                           "redirect_url must be an absolute URL on an allowed origin.");
    bool const suffixed = [&] {
        auto const* s = ctx.query.find("suffixed_cookies");
        return s != nullptr && *s == "true";
    }();
    std::string const secure = redirect->starts_with("https://") ? "; Secure" : "";
    // __client_uat goes where the FAPI itself puts it, the site domain, when the app is on the site (one cookie,
    // not a host-only twin that outlives the FAPI's): then the app's other subdomains see the same value.
    auto const target = parse_redirect(*redirect);
    std::string uat_domain;
    if (target && !a.inst.site_domain.empty() && on_site(a, target->origin))
        uat_domain = "; Domain=" + a.inst.site_domain;
    // The token is for the app the browser returns to: a navigation without a Referer (typed, bookmarked, or a
    // redirect chain that dropped it) still gets its azp from the (allowed) redirect target.
    if (ctx.azp.empty() && target) ctx.azp = target->origin;

    // Signed-in state of this browser's client.
    std::string jwt;
    std::int64_t uat = 0;
    auto r = txn::read(a, "handshake", [&](store::read_txn& t) -> store::result<api_result<void>> {
        auto c = current_client(ctx, t);
        if (!c || c->last_active_session_id.empty()) return api_result<void>();
        auto s = t.sessions().get(c->last_active_session_id);
        if (!s) return s.error();
        if (!*s || !views::session_live(**s, ctx.now)) return api_result<void>();
        auto tok = session_token_for_client(a, ctx, **s, c->updated_at);
        if (!tok) return api_result<void>(tok.error());
        jwt = std::move(*tok);
        uat = c->updated_at / 1000;
        return api_result<void>();
    });
    if (!r) return r.error();

    std::vector<std::string> directives;
    auto add = [&](std::string const& name, std::string const& value, std::string const& attrs) {
        directives.push_back(name + "=" + value + attrs);
        if (suffixed) directives.push_back(name + "_" + a.inst.cookie_suffix + "=" + value + attrs);
    };
    if (!a.inst.production) {
        // Development: the app's server reads the dev browser from its own host (@clerk/backend demands one, and
        // drops the query parameter after the handshake), so the directives carry it; a browser that reaches the
        // handshake without one (its first page, before clerk-js ran) gets a new one, which clerk-js then adopts
        // from the cookie.
        std::string dvb = ctx.dev_browser_id;
        if (dvb.empty()) {
            store::dev_browser_record d;
            d.id = "dvb_" + crypto::random_token(24);
            d.created_at = ctx.now;
            auto w = a.db.with_write([&](store::write_txn& tx) { return tx.dev_browsers().put(d); });
            if (!w) return store_failure(w.error(), "handshake_dev_browser");
            dvb = d.id;
        }
        add("__clerk_db_jwt", dvb, "; Path=/; Max-Age=31536000; SameSite=Lax" + secure);
    }
    if (!jwt.empty()) {
        add("__session", jwt, "; Path=/; SameSite=Lax" + secure);
        add("__client_uat", std::to_string(uat), "; Path=/" + uat_domain + "; Max-Age=31536000; SameSite=Lax" + secure);
    } else {
        add("__session", "", "; Path=/; Max-Age=0; SameSite=Lax" + secure);
        add("__client_uat", "0", "; Path=/" + uat_domain + "; Max-Age=31536000; SameSite=Lax" + secure);
    }

    std::string param;
    auto const* format = ctx.query.find("format");
    if (format != nullptr && *format == "nonce") {
        // Nonce format: the directives wait (5 minutes, single use) for BAPI /v1/clients/handshake_payload.
        std::string nonce = crypto::random_token(24);
        json::array list;
        for (auto const& d : directives) list.push_back(json::value(d));
        json::object stored{{"exp", ctx.now + 300'000}, {"directives", std::move(list)}};
        auto w = txn::write(a, "handshake_nonce", txn::on_client_error::abort, [&](store::write_txn& tx) {
            return tx.meta().put("handshake_nonce:" + nonce, json::serialize(stored));
        });
        if (!w) return w.error();
        param = "__clerk_handshake_nonce=" + nonce;
    } else {
        // Token format: a JWT signed with the instance key whose payload carries the directives.
        json::array list;
        for (auto const& d : directives) list.push_back(json::value(d));
        auto signed_payload = domain::sign_handshake(a, std::move(list), ctx.now);
        if (!signed_payload) return signed_payload.error();
        param = "__clerk_handshake=" + *signed_payload;
    }

    // The Location is re-serialised from the parsed target with the parameter added: nothing is copied.
    auto eq = param.find('=');
    return reply{
        http::status::temporary_redirect,
        {},
        with_query_param(*redirect, std::string_view(param).substr(0, eq), std::string_view(param).substr(eq + 1))};
}

}  // namespace latchkey::server::api::frontend
