#include "server/api/frontend/common.hpp"
#include "server/api/console/counters.hpp"
#include "server/api/frontend/user_edit.hpp"
#include "server/api/txn.hpp"

#include "server/metrics.hpp"

#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "crypto/jws.hpp"
#include "crypto/random.hpp"
#include "server/api/activity.hpp"
#include "server/api/domain/identifications.hpp"
#include "server/api/domain/mfa.hpp"
#include "server/api/domain/sessions.hpp"
#include "server/api/domain/tokens.hpp"
#include "server/api/events.hpp"
#include "server/api/frontend/identity.hpp"
#include "server/api/json_write.hpp"
#include "server/api/site.hpp"
#include "server/api/views.hpp"
#include "server/log.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <cctype>

namespace latchkey::server::api::frontend {

namespace json = boost::json;

std::optional<store::client_record> current_client(request_ctx const& ctx, store::read_txn const& t) {
    if (ctx.client_id.empty()) return std::nullopt;
    auto c = t.clients().get(ctx.client_id);
    if (!c || !*c) return std::nullopt;
    return std::move(**c);
}

api_result<current_user> load_current_user(app& /*a*/, request_ctx const& ctx, store::read_txn const& t) {
    auto c = current_client(ctx, t);
    if (!c) return make_error(code::authentication_invalid);
    std::string sid = c->last_active_session_id;
    if (auto const* q = ctx.query.find("_clerk_session_id"); q != nullptr && !q->empty()) sid = *q;
    if (sid.empty()) return make_error(code::authentication_invalid);
    auto s = t.sessions().get(sid);
    if (!s) return store_failure(s.error(), "get_session");
    if (!*s || (*s)->client_id != c->id || !views::session_live(**s, ctx.now))
        return make_error(code::authentication_invalid);
    auto u = t.users().get((*s)->user_id);
    if (!u) return store_failure(u.error(), "get_user");
    if (!*u) return make_error(code::authentication_invalid);
    return current_user{std::move(*c), std::move(**s), std::move(**u)};
}

std::string_view cookie_domain(app const& a, request_ctx const& ctx) {
    // The configured frontend API decides, as it decides Secure, never the Host header: browsers reach the FAPI
    // at that host by contract (the key names it), while a reverse proxy in front may rewrite Host (nginx sends
    // the upstream's by default). Behind a same-origin proxy (Clerk-Proxy-Url) the cookie stays on the app's host.
    if (a.inst.site_domain.empty() || ctx.req.find("Clerk-Proxy-Url") != ctx.req.end()) return {};
    return a.inst.site_domain;
}

std::string cookie_attrs(app const& a, request_ctx const& ctx, std::int64_t max_age, bool http_only, bool with_domain) {
    std::string s;
    s.reserve(96);
    s += "; Path=/";
    // Secure follows the configured frontend API (https, or a TLS listener), never a request header: a forged
    // Clerk-Proxy-Url must not strip it. A proxy only keeps the cookie host-only (it lands on the app's host).
    bool const secure = a.inst.https;
    if (with_domain) {
        auto const d = cookie_domain(a, ctx);
        if (!d.empty()) {
            s += "; Domain=";
            s += d;
        }
    }
    s += "; Max-Age=";
    json_write::integer(s, max_age);
    if (http_only) s += "; HttpOnly";
    s += "; SameSite=Lax";
    if (secure) s += "; Secure";
    return s;
}

api_result<store::client_record> ensure_client(app& a, request_ctx& ctx, store::write_txn& w) {
    if (auto c = current_client(ctx, w)) return std::move(*c);
    store::client_record c;
    c.id = crypto::new_id("client");
    c.created_at = c.updated_at = ctx.now;
    if (!ctx.dev_browser_id.empty()) {
        auto d = w.dev_browsers().get(ctx.dev_browser_id);
        if (!d) return store_failure(d.error(), "get_dev_browser");
        if (*d) {
            auto rec = **d;
            rec.client_id = c.id;
            if (auto r = w.dev_browsers().put(rec); !r) return store_failure(r.error(), "put_dev_browser");
        }
        c.dev_browser_id = ctx.dev_browser_id;
    } else {
        auto const* native = ctx.query.find("_is_native");
        if (native != nullptr && *native == "1") ctx.native = true;  // native apps keep the credential: no cookies
        send_client_credential(a, ctx, new_client_credential(c));
        if (!ctx.native) ctx.cookie_auth = true;
    }
    if (auto r = w.clients().put(c); !r) return store_failure(r.error(), "put_client");
    ctx.client_id = c.id;
    return c;
}

api_result<store::session_record> start_session(app& a, request_ctx& ctx, store::write_txn& w,
                                                store::client_record& client, store::user_record& user,
                                                std::int64_t second_factor_at) {
    if (a.cfg.single_session_mode) {
        // One signed-in session per client: any other live session on it is ended.
        if (auto e = domain::end_client_sessions(a, w, client, ctx.now, "ended"); !e)
            return store_failure(e.error(), "end_client_sessions");
    }
    store::session_record s;
    s.id = crypto::new_id("sess");
    s.client_id = client.id;
    s.user_id = user.id;
    // Required MFA (issue 14): a user without a second factor gets a pending session with the setup-mfa task
    // until they enrol one (domain::activate_mfa_sessions).
    s.status = domain::owes_mfa_setup(a, user) ? "pending" : "active";
    s.last_active_at = ctx.now;
    s.expire_at = ctx.now + a.cfg.session_lifetime.count() * 1000;
    if (a.cfg.inactivity_timeout.count() > 0)
        s.expire_at = std::min(s.expire_at, ctx.now + a.cfg.inactivity_timeout.count() * 1000);
    s.abandon_at =
        ctx.now + std::max<std::int64_t>(a.cfg.session_lifetime.count(), std::int64_t{30} * 24 * 3600) * 1000;
    s.first_factor_at = ctx.now;
    s.second_factor_at = second_factor_at;
    s.created_at = s.updated_at = ctx.now;
    record_activity(a, ctx, s);
    client.session_ids.push_back(s.id);
    client.last_active_session_id = s.id;
    client.updated_at = ctx.now;
    if (auto r = rotate_client_credential(a, ctx, w, client); !r) return r.error();
    if (auto r = w.sessions().put(s); !r) return store_failure(r.error(), "put_session");
    if (auto r = w.clients().put(client); !r) return store_failure(r.error(), "put_client");
    // The console's charts (issue 23): a sign-in or sign-up by strategy, and an active session, in this txn.
    if (auto r = console::count_session_start(w, ctx); !r) return store_failure(r.error(), "console_counters");
    store::user_record prev = user;
    user.last_sign_in_at = ctx.now;
    user.last_active_at = ctx.now;
    if (auto r = w.users().put(user, &prev); !r) return store_failure(r.error(), "put_user");
    if (auto e = events::session_changed(a, w, "session.created", s, &ctx); !e)
        return store_failure(e.error(), "webhook");
    return s;
}

namespace {

/// The first instant after `now` at which (now - since) / 60000 changes (conservatively: `since` itself while
/// the clock is behind it).
std::int64_t next_minute_of(std::int64_t since, std::int64_t now) {
    if (now < since) return since;
    return since + ((now - since) / 60000 + 1) * 60000;
}

/// How long a cached token must still be valid to be shown as last_active_token (client_token): half its
/// lifetime. The rendered-client cache ends a rendering at the same point, so both read it from here.
std::int64_t token_min_remaining_s(app const& a) { return std::max<std::int64_t>(a.cfg.token_lifetime.count() / 2, 1); }

/// What a session's JSON depends on besides the store: liveness ends at expire_at/abandon_at, the fva
/// counters tick every minute, the token shown is replaced once due for refresh (client_token) or by a mint.
void record_clock_deps(app const& a, request_ctx const& ctx, store::session_record const& s, bool live,
                       std::shared_ptr<cached_token const> const& token, rendered_client& deps) {
    if (!live) return;  // stays so without a write: status changes are writes, and time only moves on
    if (s.expire_at != 0) deps.until(s.expire_at);
    if (s.abandon_at != 0) deps.until(s.abandon_at);
    if (s.first_factor_at > 0) deps.until(next_minute_of(s.first_factor_at, ctx.now));
    if (s.second_factor_at > 0) deps.until(next_minute_of(s.second_factor_at, ctx.now));
    // client_token stops taking it once exp - now_s < token_min_remaining_s, now_s = now / 1000.
    deps.until((token->exp - token_min_remaining_s(a) + 1) * 1000);
    deps.tokens.emplace_back(s.id, token);
}

/// Production-style identity: the FAPI owns __client_uat (clerk-wire §4, checklist 14): the client's last
/// change in seconds while a session is live on it, else 0.
void set_client_uat(app const& a, request_ctx& ctx, bool signed_in, std::int64_t client_updated_at) {
    if (!ctx.dev_browser_id.empty() || ctx.native) return;
    std::string const attrs = cookie_attrs(a, ctx, 365LL * 24 * 3600, false, true);
    auto set = [&](std::string_view suffix) {
        std::string& cookie = ctx.set_cookies.emplace_back();
        cookie.reserve(32 + suffix.size() + attrs.size());
        cookie += "__client_uat";
        cookie += suffix;
        cookie += '=';
        json_write::integer(cookie, signed_in ? client_updated_at / 1000 : 0);
        cookie += attrs;
    };
    set("");
    set("_" + a.inst.cookie_suffix);
}

/// The token to show as last_active_token, shared with the cache: a cached one when fresh and not older than
/// the client's last change (clerk-wire rule 19: __client_uat never later than the token's iat), else a
/// freshly minted one, cached.
api_result<std::shared_ptr<cached_token const>> client_token(app& a, request_ctx const& ctx,
                                                             store::session_record const& s,
                                                             std::int64_t client_updated_at) {
    std::int64_t const now_s = ctx.now / 1000;
    std::int64_t const life = a.cfg.token_lifetime.count();
    if (auto t = a.tokens.find(s.id, ctx.azp, now_s, client_updated_at / 1000, token_min_remaining_s(a))) return t;
    auto jwt = domain::mint_session_token(a, s, ctx.azp, ctx.now);
    if (!jwt) return jwt.error();
    return a.tokens.put(s.id, cached_token{std::move(*jwt), now_s, now_s + life, ctx.azp});
}

}  // namespace

api_result<std::string> session_token_for_client(app& a, request_ctx const& ctx, store::session_record const& s,
                                                 std::int64_t client_updated_at) {
    auto t = client_token(a, ctx, s, client_updated_at);
    if (!t) return t.error();
    return (*t)->jwt;
}

views::lockout lockout_now(app const& a, store::user_record const& u, std::int64_t now_ms) {
    return views::lockout_of(u, now_ms, a.cfg.protection.max_attempts);
}

std::string render_user_fragment(store::user_record const& u, views::lockout const& lock) {
    // Both DOMs live only until serialized: build them in a stack arena, not on the heap.
    views::scratch arena;
    std::string out;
    out.reserve(3072);
    out += R"("user":)";
    json_write::value(out, json::value(views::user(u, views::audience::frontend, lock, arena.storage())));
    out += R"(,"public_user_data":)";
    json_write::value(out, json::value(views::public_user_data(u, arena.storage())));
    out.shrink_to_fit();  // the cache keeps it
    return out;
}

std::shared_ptr<user_fragment const> user_fragment_for(app& a, store::user_record const& u, std::int64_t now_ms) {
    if (auto f = a.fragments.get(u, now_ms)) return f;
    auto const lock = lockout_now(a, u, now_ms);
    return a.fragments.put(u, render_user_fragment(u, lock), lock.valid_from_ms, lock.valid_until_ms);
}

api_result<void> append_session_json(app& a, request_ctx const& ctx, store::session_record const& s,
                                     store::user_record const& u, std::int64_t client_updated_at, std::string& out,
                                     rendered_client* deps) {
    bool const live = views::session_live(s, ctx.now);
    // The token first: it may fail (minting), and nothing is written then.
    std::shared_ptr<cached_token const> token;
    if (live) {
        auto t = client_token(a, ctx, s, client_updated_at);
        if (!t) return t.error();
        token = std::move(*t);
    }
    if (deps != nullptr) record_clock_deps(a, ctx, s, live, token, *deps);
    auto const fragment = user_fragment_for(a, u, ctx.now);
    if (deps != nullptr) deps->until(fragment->valid_until_ms);  // the user's lockout countdown
    // Keys in the order the DOM version of this object had them (clients don't care; diffs and tests do).
    out += R"({"object":"session","id":)";
    json_write::string(out, s.id);
    out += R"(,"status":)";
    json_write::string(out, (!live && (s.status == "active" || s.status == "pending")) ? std::string_view("expired")
                                                                                       : std::string_view(s.status));
    out += R"(,"expire_at":)";
    json_write::integer(out, s.expire_at);
    out += R"(,"abandon_at":)";
    json_write::integer(out, s.abandon_at);
    out += R"(,"last_active_at":)";
    json_write::integer(out, s.last_active_at);
    out += R"(,"last_active_organization_id":)";
    json_write::string_or_null(out, s.last_active_organization_id);
    out += R"(,"actor":)";
    if (s.actor.empty())
        out += "null";
    else
        json_write::value(out, views::json_text(s.actor));  // impersonation only: rare
    out += ',';
    out += fragment->json;
    // fva depends on the clock (minutes since each factor), the token on the token cache: both per request.
    std::int64_t const fva1 = s.first_factor_at > 0 ? (ctx.now - s.first_factor_at) / 60000 : 0;
    std::int64_t const fva2 = s.second_factor_at > 0 ? (ctx.now - s.second_factor_at) / 60000 : -1;
    out += R"(,"factor_verification_age":[)";
    json_write::integer(out, fva1);
    out += ',';
    json_write::integer(out, fva2);
    out += s.status == "pending" && domain::owes_mfa_setup(a, u)
               ? R"(],"tasks":[{"key":"setup-mfa"}],"last_active_token":)"
               : R"(],"tasks":null,"last_active_token":)";
    if (live) {
        out += R"({"object":"token","jwt":)";
        json_write::string(out, token->jwt);
        out += '}';
    } else {
        out += "null";
    }
    out += R"(,"created_at":)";
    json_write::integer(out, s.created_at);
    out += R"(,"updated_at":)";
    json_write::integer(out, s.updated_at);
    out += '}';
    return {};
}

api_result<json::object> session_json(app& a, request_ctx const& ctx, store::session_record const& s,
                                      store::user_record const& u, std::int64_t client_updated_at) {
    std::string text;
    if (auto r = append_session_json(a, ctx, s, u, client_updated_at, text); !r) return r.error();
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec || !v.is_object()) {  // cannot happen: the text is ours
        log::error("session_json_invalid", {{"error", ec.message()}});
        return make_error(code::internal_clerk_error);
    }
    return std::move(v.as_object());
}

store::result<client_snapshot> snapshot_client(app& a, store::read_txn const& t, store::client_record c,
                                               std::int64_t now_ms) {
    client_snapshot out;
    for (auto const& id : c.session_ids) {
        auto s = t.sessions().get(id);
        if (!s) return s.error();
        if (!*s || !views::session_live(**s, now_ms)) continue;
        auto u = t.users().get((*s)->user_id);
        if (!u) return u.error();
        if (!*u) continue;
        out.sessions.emplace_back(std::move(**s), std::move(**u));
    }
    if (!c.sign_in_id.empty()) {
        auto si = t.sign_ins().get(c.sign_in_id);
        // An attempt completed by the OAuth callback stays on the client: clerk-js's handleRedirectCallback reads it.
        if (si && *si && ((*si)->status != "complete" || !(*si)->oauth.strategy.empty()) &&
            (*si)->status != "abandoned")
            out.sign_in = sign_in_json(a, t, **si);
    }
    if (!c.sign_up_id.empty()) {
        auto su = t.sign_ups().get(c.sign_up_id);
        if (su && *su && ((*su)->status != "complete" || !(*su)->oauth.strategy.empty()) &&
            (*su)->status != "abandoned")
            out.sign_up = sign_up_json(a, **su);
    }
    out.client = std::move(c);
    return out;
}

store::result<client_snapshot> snapshot_current_client(app& a, request_ctx const& ctx, store::read_txn const& t) {
    auto c = current_client(ctx, t);
    if (!c) return client_snapshot{};
    return snapshot_client(a, t, std::move(*c), ctx.now);
}

api_result<void> append_client_json(app& a, request_ctx& ctx, client_snapshot const& snap, std::string& out,
                                    rendered_client* deps) {
    if (!snap.client) {
        out += "null";
        return {};
    }
    auto const& c = *snap.client;
    out += R"({"object":"client","id":)";
    json_write::string(out, c.id);
    out += R"(,"sessions":[)";
    bool signed_in = false;
    bool last_active_live = false;
    for (auto const& [s, u] : snap.sessions) {
        if (signed_in) out += ',';
        if (auto r = append_session_json(a, ctx, s, u, c.updated_at, out, deps); !r) return r.error();
        signed_in = true;
        if (s.id == c.last_active_session_id) last_active_live = true;
    }
    out += R"(],"sign_in":)";
    if (snap.sign_in)
        json_write::value(out, json::value(*snap.sign_in));
    else
        out += "null";
    out += R"(,"sign_up":)";
    if (snap.sign_up)
        json_write::value(out, json::value(*snap.sign_up));
    else
        out += "null";
    out += R"(,"last_active_session_id":)";
    if (last_active_live)
        json_write::string(out, c.last_active_session_id);
    else
        out += "null";
    out += R"(,"last_authentication_strategy":null,"cookie_expires_at":null,"captcha_bypass":false,"created_at":)";
    json_write::integer(out, c.created_at);
    out += R"(,"updated_at":)";
    json_write::integer(out, c.updated_at);
    out += '}';

    if (deps != nullptr) {
        deps->cacheable = deps->cacheable && !snap.sign_in && !snap.sign_up;
        deps->signed_in = signed_in;
        deps->updated_at = c.updated_at;
    }
    set_client_uat(a, ctx, signed_in, c.updated_at);
    return {};
}

api_result<void> append_client_json(app& a, request_ctx& ctx, store::read_txn const& t, store::client_record const& c,
                                    std::string& out, rendered_client* deps) {
    auto snap = snapshot_client(a, t, c, ctx.now);
    if (!snap) return store_failure(snap.error(), "client_snapshot");
    return append_client_json(a, ctx, *snap, out, deps);
}

namespace {

/// True when `r` may stand for a fresh rendering of the request's client at store snapshot `snapshot`.
bool reusable(app const& a, request_ctx const& ctx, rendered_client const& r, std::uint64_t snapshot) {
    if (r.snapshot != snapshot || ctx.now >= r.valid_until_ms || r.azp != ctx.azp) return false;
    for (auto const& [sid, token] : r.tokens)
        if (!a.tokens.holds(sid, token.get())) return false;
    return true;
}

}  // namespace

api_result<void> append_loaded_client(app& a, request_ctx& ctx, std::string& out, char const* what, rendering mode) {
    if (ctx.client_id.empty()) {
        out += "null";
        return {};
    }
    std::size_t const mark = out.size();
    auto r = txn::read(a, what, [&](store::read_txn& t) -> store::result<api_result<void>> {
        std::uint64_t const snapshot = t.version();
        if (mode == rendering::reuse) {
            if (auto hit = a.clients.get(ctx.client_id); hit && reusable(a, ctx, *hit, snapshot)) {
                out += hit->json;
                set_client_uat(a, ctx, hit->signed_in, hit->updated_at);
                return api_result<void>();
            }
        }
        auto c = current_client(ctx, t);
        if (!c) {
            out += "null";
            return api_result<void>();
        }
        if (mode == rendering::fresh) return append_client_json(a, ctx, t, *c, out);
        auto fresh = std::make_shared<rendered_client>();
        auto res = append_client_json(a, ctx, t, *c, out, fresh.get());
        if (res && fresh->cacheable) {
            fresh->snapshot = snapshot;
            fresh->azp = ctx.azp;
            fresh->json.assign(out, mark, std::string::npos);
            a.clients.put(ctx.client_id, std::move(fresh));
        }
        return res;
    });
    if (!r) out.resize(mark);
    return r;
}

namespace {

/// {"response": response, "client": <what append_client appends>}.
template <class AppendClient>
api_result<reply> enveloped(json::value const& response, AppendClient&& append_client) {
    std::string body;
    body.reserve(client_json_reserve);
    body += R"({"response":)";
    json_write::value(body, response);
    body += R"(,"client":)";
    if (auto r = append_client(body); !r) return r.error();
    body += '}';
    return reply{http::status::ok, std::move(body), {}};
}

}  // namespace

api_result<reply> envelope(app& a, request_ctx& ctx, json::value const& response) {
    return enveloped(response, [&](std::string& body) { return append_loaded_client(a, ctx, body); });
}

api_result<reply> envelope(app& a, request_ctx& ctx, json::value const& response, client_snapshot const& client) {
    return enveloped(response, [&](std::string& body) { return append_client_json(a, ctx, client, body); });
}

namespace {

/// {"response": client, "client": client} around one rendering of the client.
reply client_twice(std::string const& client) {
    std::string body;
    body.reserve(2 * client.size() + 32);
    body += R"({"response":)";
    body += client;
    body += R"(,"client":)";
    body += client;
    body += '}';
    return reply{http::status::ok, std::move(body), {}};
}

}  // namespace

api_result<reply> client_envelope(app& a, request_ctx& ctx) {
    std::string client;
    client.reserve(client_json_reserve);
    if (auto r = append_loaded_client(a, ctx, client); !r) return r.error();
    return client_twice(client);
}

api_result<reply> client_envelope(app& a, request_ctx& ctx, client_snapshot const& snap) {
    std::string client;
    client.reserve(client_json_reserve);
    if (auto r = append_client_json(a, ctx, snap, client); !r) return r.error();
    return client_twice(client);
}

api_result<client_snapshot> stage_client(app& a, request_ctx const& ctx, store::read_txn const& t) {
    auto c = snapshot_current_client(a, ctx, t);
    if (!c) return store_failure(c.error(), "client_snapshot");
    return std::move(*c);
}

api_result<staged_reply> stage_reply(app& a, request_ctx const& ctx, store::read_txn const& t, json::value response) {
    auto c = stage_client(a, ctx, t);
    if (!c) return c.error();
    return staged_reply{std::move(response), std::move(*c)};
}

api_result<reply> envelope(app& a, request_ctx& ctx, staged_reply const& staged) {
    return envelope(a, ctx, staged.response, staged.client);
}

std::optional<api_error> require_current_user(app& a, request_ctx const& ctx) {
    auto r = txn::read(a, "require_current_user", [&](store::read_txn& t) -> api_result<void> {
        if (auto m = load_current_user(a, ctx, t); !m) return m.error();
        return {};
    });
    if (!r) return r.error();
    return std::nullopt;
}

api_result<void> save_current_user(app& a, request_ctx const& ctx, store::write_txn& w, store::user_record& u,
                                   store::user_record const& previous, bool announce, std::string_view taken_param) {
    u.updated_at = ctx.now;
    if (auto r = domain::put_user(w, u, previous, "put_user", taken_param); !r) return r;
    if (domain::owes_mfa_setup(a, previous) && u.two_factor_enabled)  // issue 14: the setup-mfa task done
        if (auto act = domain::activate_mfa_sessions(a, w, u.id, ctx.now); !act) return act.error();
    if (announce)
        if (auto e = events::user_changed(a, w, "user.updated", u, &ctx); !e)
            return store_failure(e.error(), "webhook");
    return {};
}

std::string new_code() { return crypto::random_digits(6); }

std::string code_digest(app const& a, std::string_view code) {
    std::string msg = "code:";
    msg += code;
    return crypto::hex_encode(crypto::hmac_sha256(a.inst.code_key, msg));
}

bool is_test_identifier(app const& a, std::string_view value) {
    if (!a.cfg.test_mode) return false;
    if (value.find("+clerk_test") != std::string_view::npos) return true;
    // +1 XXX 555 0100..0199
    if (value.size() == 12 && value.starts_with("+1") && value.substr(5, 4) == "5550" && value[9] == '1') return true;
    return false;
}

std::optional<std::string> field(request_ctx const& ctx, std::string_view name) {
    if (auto const* v = ctx.form.find(name)) return *v;
    return std::nullopt;
}

api_result<void> prepare_code(app& a, request_ctx const& ctx, store::write_txn& w, store::verification_record& v,
                              std::string_view strategy, std::string_view channel, std::string_view to,
                              std::string_view target_id, std::string_view user_id) {
    bool test = is_test_identifier(a, to);
    std::string code = test ? std::string("424242") : new_code();
    v.status = "unverified";
    v.strategy = std::string(strategy);
    v.code_digest = code_digest(a, code);
    v.target_id = std::string(target_id);
    v.expire_at = ctx.now + a.cfg.protection.code_ttl.count() * 1000;
    v.attempts = 0;
    v.verified_at = 0;
    if (test) return {};
    auto r = events::send_code(a, w, ctx, message{std::string(channel), std::string(to), std::string(strategy), code},
                               user_id, target_id);
    if (!r) return store_failure(r.error(), "send_code");
    return {};
}

api_result<void> attempt_code(app& a, request_ctx const& ctx, store::verification_record& v, std::string_view code) {
    if (v.status == "verified") return make_error(code::verification_already_verified);
    if (v.status.empty() || v.code_digest.empty()) return make_error(code::verification_not_sent);
    if (v.status == "failed" || v.attempts >= static_cast<std::int32_t>(a.cfg.protection.code_max_attempts)) {
        v.status = "failed";
        return make_error(code::verification_failed);
    }
    if (v.expire_at != 0 && ctx.now > v.expire_at) {
        v.status = "expired";
        return make_error(code::verification_expired);
    }
    if (v.status == "expired") return make_error(code::verification_expired);
    if (code.empty()) return param_error(code::form_param_missing, "code");
    if (!crypto::equal_ct(code_digest(a, code), v.code_digest)) {
        ++v.attempts;
        if (v.attempts >= static_cast<std::int32_t>(a.cfg.protection.code_max_attempts)) {
            v.status = "failed";
            return make_error(code::verification_failed);
        }
        return param_error(code::form_code_incorrect, "code");
    }
    v.status = "verified";
    v.verified_at = ctx.now;
    v.code_digest.clear();  // single use
    return {};
}

std::optional<api_error> rate_limit(app& a, request_ctx const& ctx, std::string const& key, std::uint32_t per_minute) {
    std::int64_t retry = 0;
    if (a.limiter.hit(key, per_minute, std::chrono::seconds(60), ctx.now, retry)) return std::nullopt;
    auto e = make_error(code::too_many_requests);
    e.meta["retry_after"] = retry;
    return e;
}

std::optional<api_error> rate_limit_ip(app& a, request_ctx const& ctx, std::string_view flow, std::string_view action) {
    std::string key(flow);
    key += ":ip:";
    key += ctx.remote_ip;
    key += ':';
    key += action;
    return rate_limit(a, ctx, key, a.cfg.protection.rate_per_ip_per_minute);
}

}  // namespace latchkey::server::api::frontend
