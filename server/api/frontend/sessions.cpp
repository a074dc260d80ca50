// The client's sessions: get, touch (setActive), end, remove, sign out of all, and token minting.
#include "server/api/console/counters.hpp"
#include "server/api/frontend/handlers.hpp"
#include "server/api/txn.hpp"

#include "server/api/activity.hpp"
#include "server/api/domain/sessions.hpp"
#include "server/api/domain/tokens.hpp"
#include "server/api/events.hpp"
#include "server/api/frontend/common.hpp"
#include "server/api/frontend/identity.hpp"
#include "server/api/organizations/orgs.hpp"
#include "server/api/templates.hpp"
#include "server/api/views.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace latchkey::server::api::frontend {

namespace json = boost::json;

namespace {

/// A session of the request's client (404 when it is not this client's).
struct client_session {
    store::client_record client;
    store::session_record session;
};

api_result<client_session> find_client_session(app& /*a*/, request_ctx const& ctx, store::read_txn const& t) {
    auto c = current_client(ctx, t);
    if (!c) return make_error(code::resource_not_found);
    std::string_view sid = ctx.params.get("session_id");
    auto s = t.sessions().get(sid);
    if (!s) return store_failure(s.error(), "get_session");
    if (!*s || (*s)->client_id != c->id) return make_error(code::resource_not_found);
    return client_session{std::move(*c), std::move(**s)};
}

/// A session's reply staged in the write that changed it: the session, its user (none when it is gone) and the
/// client the envelope shows, all read in that txn after its writes.
struct staged_session {
    store::session_record session;
    std::optional<store::user_record> user;
    client_snapshot client;
};

store::result<api_result<void>> stage_session(app& a, request_ctx const& ctx, store::read_txn const& t,
                                              store::session_record const& s, std::optional<staged_session>& out) {
    auto u = t.users().get(s.user_id);
    if (!u) return u.error();
    auto c = stage_client(a, ctx, t);
    if (!c) return api_result<void>(c.error());
    out.emplace(staged_session{s, std::move(*u), std::move(*c)});
    return api_result<void>();
}

/// The session's JSON (null when its user is gone) and the client, as the write staged them: no txn. The session
/// shows the token of the client's last change, `client_updated_at` (the request's time for a closed session).
api_result<reply> respond(app& a, request_ctx& ctx, staged_session const& st, std::int64_t client_updated_at) {
    json::value response = nullptr;
    if (st.user) {
        auto sj = session_json(a, ctx, st.session, *st.user, client_updated_at);
        if (!sj) return sj.error();
        response = std::move(*sj);
    }
    return envelope(a, ctx, std::move(response), st.client);
}

/// Runs `change(write_txn&, client&, session&) -> store::result<api_result<void>>` on one session of the request's
/// client in one write txn (its 4xx commits what it wrote) and stages the reply in it.
template <class Change>
api_result<staged_session> change_client_session(app& a, request_ctx& ctx, std::string_view what, Change change) {
    std::optional<staged_session> staged;
    auto w =
        txn::write(a, what, txn::on_client_error::commit, [&](store::write_txn& tx) -> store::result<api_result<void>> {
            auto cs = find_client_session(a, ctx, tx);
            if (!cs) return api_result<void>(cs.error());
            auto& [client, s] = *cs;
            if (auto r = change(tx, client, s); !r || !*r) return r;
            return stage_session(a, ctx, tx, s, staged);
        });
    if (!w) return w.error();
    return std::move(*staged);
}

/// Moves one session to `status` (ended/removed); the client forgets it as last active. Replies with the
/// session and the piggy-backed client.
api_result<reply> close_session(app& a, request_ctx& ctx, std::string_view status) {
    auto staged = change_client_session(a, ctx, "close_session",
                                        [&](store::write_txn& tx, store::client_record& client,
                                            store::session_record& s) -> store::result<api_result<void>> {
                                            if (views::session_live(s, ctx.now)) {
                                                s.status = std::string(status);
                                                s.updated_at = ctx.now;
                                                if (auto r = tx.sessions().put(s); !r) return r.error();
                                                if (auto e = events::session_ended(a, tx, s, &ctx); !e)
                                                    return e.error();
                                            }
                                            if (client.last_active_session_id == s.id)
                                                client.last_active_session_id.clear();
                                            client.updated_at = ctx.now;
                                            // Signing out changes the client's privilege: a new credential
                                            // (identity.hpp).
                                            if (auto r = rotate_client_credential(a, ctx, tx, client); !r)
                                                return api_result<void>(r.error());
                                            if (auto r = tx.clients().put(client); !r) return r.error();
                                            domain::drop_tokens_after_commit(a, tx, {s.id});
                                            return api_result<void>();
                                        });
    if (!staged) return staged.error();
    return respond(a, ctx, *staged, ctx.now);
}

/// Mints a token for one of the client's live sessions (401 otherwise: clerk-js then re-fetches the client).
api_result<reply> mint_for(app& a, request_ctx& ctx, std::string_view template_name) {
    auto r = txn::read(a, "mint", [&](store::read_txn& t) -> store::result<api_result<std::string>> {
        auto cs = find_client_session(a, ctx, t);
        if (!cs) {
            if (cs.error().code == code::resource_not_found)
                return api_result<std::string>(make_error(code::authentication_invalid));
            return api_result<std::string>(cs.error());
        }
        auto const& s = cs->session;
        if (!views::session_live(s, ctx.now)) return api_result<std::string>(make_error(code::session_not_active));
        if (auto oid = field(ctx, "organization_id");
            oid && template_name.empty() && *oid != s.last_active_organization_id) {
            // issue 13: a token for another of the user's organizations than the session's (not cached)
            auto claims = orgs::claims_in(a, t, s.user_id, *oid);
            if (!claims) return api_result<std::string>(claims.error());
            auto other = s;
            other.org_claims = std::move(*claims);
            return domain::mint_session_token(a, other, ctx.azp, ctx.now);
        }
        if (template_name.empty()) {
            auto jwt = domain::mint_session_token(a, s, ctx.azp, ctx.now);
            if (jwt) {
                std::int64_t now_s = ctx.now / 1000;
                a.tokens.put(s.id, cached_token{*jwt, now_s, now_s + a.cfg.token_lifetime.count(), ctx.azp});
            }
            return jwt;
        }
        auto tpl = t.jwt_templates().by_name(template_name);
        if (!tpl) return tpl.error();
        if (!*tpl) return api_result<std::string>(make_error(code::resource_not_found));
        auto u = t.users().get(s.user_id);
        if (!u) return u.error();
        if (!*u) return api_result<std::string>(make_error(code::authentication_invalid));
        auto claims = render_template_claims(a, **tpl, **u, s);
        return domain::mint_session_token(a, s, ctx.azp, ctx.now, &claims, (*tpl)->lifetime);
    });
    if (!r) return r.error();
    // Bare token object: clerk-js's Token reads `jwt` from the top level (clerk-wire §3).
    std::string body = R"({"object":"token","jwt":")";
    body += *r;
    body += "\"}";
    return reply{http::status::ok, std::move(body), {}};
}

}  // namespace

api_result<reply> end_all_sessions(app& a, request_ctx& ctx) {
    auto w = txn::write(a, "end_all_sessions", txn::on_client_error::commit,
                        [&](store::write_txn& tx) -> store::result<api_result<client_snapshot>> {
                            auto c = current_client(ctx, tx);
                            if (!c) return api_result<client_snapshot>(client_snapshot{});
                            if (auto e = domain::end_client_sessions(a, tx, *c, ctx.now, "ended"); !e) return e.error();
                            c->last_active_session_id.clear();
                            c->updated_at = ctx.now;
                            if (auto r = rotate_client_credential(a, ctx, tx, *c); !r)
                                return api_result<client_snapshot>(r.error());
                            if (auto r = tx.clients().put(*c); !r) return r.error();
                            return stage_client(a, ctx, tx);
                        });
    if (!w) return w.error();
    return client_envelope(a, ctx, *w);
}

api_result<reply> get_session(app& a, request_ctx& ctx) {
    auto r = txn::read(a, "get_session", [&](store::read_txn& t) -> store::result<api_result<json::value>> {
        auto cs = find_client_session(a, ctx, t);
        if (!cs) return api_result<json::value>(cs.error());
        auto u = t.users().get(cs->session.user_id);
        if (!u) return u.error();
        if (!*u) return api_result<json::value>(make_error(code::resource_not_found));
        auto sj = session_json(a, ctx, cs->session, **u, cs->client.updated_at);
        if (!sj) return api_result<json::value>(sj.error());
        return api_result<json::value>(json::value(std::move(*sj)));
    });
    if (!r) return r.error();
    return envelope(a, ctx, std::move(*r));
}

api_result<reply> touch_session(app& a, request_ctx& ctx) {
    auto org = field(ctx, "active_organization_id");
    auto staged =
        change_client_session(a, ctx, "touch_session",
                              [&](store::write_txn& tx, store::client_record& client,
                                  store::session_record& s) -> store::result<api_result<void>> {
                                  if (!views::session_live(s, ctx.now))
                                      return api_result<void>(make_error(code::session_not_active));
                                  // The console's active-sessions chart (issue 23): once per bucket the session is
                                  // active in.
                                  if (auto c = console::count_active(tx, s.last_active_at, ctx.now); !c)
                                      return c.error();
                                  s.last_active_at = ctx.now;
                                  if (org) {  // issue 13: a member's organization only; its claims ride on the session
                                      auto changed = orgs::select_organization(a, tx, s, *org);
                                      if (!changed) return api_result<void>(changed.error());
                                      if (*changed) domain::drop_tokens_after_commit(a, tx, {s.id});
                                  }
                                  if (a.cfg.inactivity_timeout.count() > 0)
                                      s.expire_at = std::min(s.created_at + a.cfg.session_lifetime.count() * 1000,
                                                             ctx.now + a.cfg.inactivity_timeout.count() * 1000);
                                  s.updated_at = ctx.now;
                                  // The activity is refreshed here, in the write touch makes anyway (activity.hpp says
                                  // why not on mint).
                                  record_activity(a, ctx, s);
                                  if (auto r = tx.sessions().put(s); !r) return r.error();
                                  // Selecting another session changes the client's signed-in state (and so
                                  // __client_uat); a focus touch of the current session does not, so cached tokens stay
                                  // valid.
                                  if (client.last_active_session_id != s.id) {
                                      client.last_active_session_id = s.id;
                                      client.updated_at = ctx.now;
                                      if (auto r = tx.clients().put(client); !r) return r.error();
                                  }
                                  return api_result<void>();
                              });
    if (!staged) {
        // clerk-js treats a 401 from touch as "re-fetch the client" (clerk-wire §7).
        if (staged.error().code == code::session_not_active || staged.error().code == code::resource_not_found)
            return make_error(code::authentication_invalid);
        return staged.error();
    }
    if (!staged->user) return make_error(code::resource_not_found);
    return respond(a, ctx, *staged, staged->client.client->updated_at);
}

api_result<reply> end_session(app& a, request_ctx& ctx) { return close_session(a, ctx, "ended"); }

api_result<reply> remove_session(app& a, request_ctx& ctx) { return close_session(a, ctx, "removed"); }

api_result<reply> create_session_token(app& a, request_ctx& ctx) { return mint_for(a, ctx, {}); }

api_result<reply> create_session_template_token(app& a, request_ctx& ctx) {
    return mint_for(a, ctx, ctx.params.get("template_name"));
}

}  // namespace latchkey::server::api::frontend
