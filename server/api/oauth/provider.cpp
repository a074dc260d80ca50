// latchkey as an OAuth 2.0 / OpenID Connect provider: /oauth/authorize, the consent endpoints clerk-js's
// <OAuthConsent/> calls (GET/POST /v1/me/oauth/consent/{client_id}), /oauth/token, /oauth/userinfo,
// /oauth/token_info (RFC 7662), /oauth/token/revoke (RFC 7009) and the discovery documents.
//
// Choices:
//   - Access tokens are opaque (`oat_` + 32 random bytes, Clerk's prefix that @clerk/backend recognises), stored
//     as their SHA-256 digest: revocation and introspection take effect at once, and nothing about the user
//     leaks into a bearer value. ID tokens are RS256 JWTs signed with the instance's active key (kid in JWKS).
//   - Codes live 10 minutes and are single use; presenting a used code again revokes every token it produced.
//   - Refresh tokens rotate on every use; presenting a rotated one again is reuse: the whole family (every
//     access and refresh token of that authorization) is revoked (RFC 6819 5.2.2.3, OAuth 2.1 4.3.1).
//   - Consent: when the application has consent_screen_enabled, /oauth/authorize answers a minimal
//     server-rendered consent page whose form posts to /v1/me/oauth/consent/{client_id} (the same endpoint
//     clerk-js's consent UI posts to). CSRF: that POST is a FAPI route, so a __client-cookie request must come
//     from an allowed origin (dispatch's Origin/Referer/Sec-Fetch-Site check); a dev browser authenticates with
//     its unguessable token in the URL. Every authorize parameter is validated again on the POST.
//   - /oauth/* errors are RFC 6749 JSON {error, error_description}; errors after the client and redirect URI
//     are known go back to the redirect URI (RFC 6749 4.1.2.1).
#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "crypto/jws.hpp"
#include "crypto/ossl.hpp"
#include "crypto/random.hpp"
#include "server/api/app.hpp"
#include "server/api/backend/common.hpp"
#include "server/api/domain/tokens.hpp"
#include "server/api/frontend/portal.hpp"
#include "server/api/oauth/handlers.hpp"
#include "server/api/txn.hpp"
#include "server/api/views.hpp"
#include "server/escape.hpp"
#include "server/http/router.hpp"
#include "server/log.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <set>

namespace latchkey::server::api::oauth {

namespace json = boost::json;

namespace {

constexpr std::int64_t code_ttl_ms = 10LL * 60 * 1000;
constexpr std::int64_t access_ttl_ms = 24LL * 3600 * 1000;
constexpr std::int64_t id_token_ttl_s = 24LL * 3600;
constexpr std::int64_t refresh_ttl_ms = 10LL * 365 * 24 * 3600 * 1000;

// ---- small helpers ----

reply oauth_error(http::status st, std::string_view error, std::string_view description) {
    json::object o;
    o["error"] = error;
    o["error_description"] = description;
    return reply{st, json::serialize(o), {}};
}

std::string const& issuer_of(app const& a) { return a.inst.frontend_api; }

std::string pct(std::string_view s) { return percent_encoded(s); }

std::string html_escape(std::string_view s) { return markup_escaped(s); }

/// `uri` with the parameters appended to its query (before any fragment; registered URIs have none).
std::string with_params(std::string uri, std::vector<std::pair<std::string, std::string>> const& ps) {
    char sep = uri.find('?') == std::string::npos ? '?' : '&';
    for (auto const& [k, v] : ps) {
        uri.push_back(sep);
        sep = '&';
        uri += pct(k);
        uri.push_back('=');
        uri += pct(v);
    }
    return uri;
}

reply redirect_to(std::string location) {
    reply r;
    r.status = http::status::found;
    r.location = std::move(location);
    return r;
}

std::vector<std::string> split_scopes(std::string_view s) {
    std::vector<std::string> out;
    while (!s.empty()) {
        auto const sp = s.find(' ');
        auto const w = s.substr(0, sp);
        s = sp == std::string_view::npos ? std::string_view{} : s.substr(sp + 1);
        if (!w.empty() && std::find(out.begin(), out.end(), w) == out.end()) out.emplace_back(w);
    }
    return out;
}

bool has_scope(std::string_view scopes, std::string_view s) {
    auto v = split_scopes(scopes);
    return std::find(v.begin(), v.end(), s) != v.end();
}

std::string join(std::vector<std::string> const& v) {
    std::string out;
    for (auto const& s : v) {
        if (!out.empty()) out.push_back(' ');
        out += s;
    }
    return out;
}

std::string s256(std::string_view verifier) { return crypto::base64url_encode(crypto::sha256(verifier)); }

/// RFC 7636 4.1: 43..128 characters of [A-Za-z0-9-._~].
bool valid_verifier(std::string_view v) {
    if (v.size() < 43 || v.size() > 128) return false;
    return std::all_of(v.begin(), v.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' || c == '~';
    });
}

std::string const* param(request_ctx const& ctx, std::string_view k) {
    if (auto const* v = ctx.form.find(k)) return v;
    return ctx.query.find(k);
}
std::string param_or(request_ctx const& ctx, std::string_view k) {
    auto const* v = param(ctx, k);
    return v != nullptr ? *v : std::string();
}

// ---- the authorization request ----

struct authz {
    store::oauth_app_record app;
    std::string redirect_uri, scope, state, nonce, code_challenge, prompt;
};

/// The outcome of validating an authorization request: a valid request, or an answer (an error shown here when
/// the client or redirect URI cannot be trusted, else an error redirect).
struct authz_check {
    std::optional<authz> ok;
    std::optional<reply> answer;
};

authz_check check_authorize(app& a, request_ctx const& ctx, std::string_view client_id) {
    authz_check out;
    auto found = txn::read(a, "oauth_authorize_client",
                           [&](store::read_txn& t) { return t.oauth().app_by_client_id(client_id); });
    if (!found || !*found) {
        out.answer = oauth_error(http::status::bad_request, "invalid_client", "Unknown client_id.");
        return out;
    }
    authz r;
    r.app = std::move(**found);
    auto const* ru = param(ctx, "redirect_uri");
    if (ru == nullptr || ru->empty()) {
        if (r.app.redirect_uris.size() != 1) {
            out.answer = oauth_error(http::status::bad_request, "invalid_request", "redirect_uri is required.");
            return out;
        }
        r.redirect_uri = r.app.redirect_uris.front();
    } else if (std::find(r.app.redirect_uris.begin(), r.app.redirect_uris.end(), *ru) == r.app.redirect_uris.end()) {
        out.answer = oauth_error(http::status::bad_request, "invalid_request",
                                 "redirect_uri does not match a registered redirect URI.");
        return out;
    } else {
        r.redirect_uri = *ru;
    }
    r.state = param_or(ctx, "state");
    auto fail = [&](std::string_view error, std::string_view description) {
        std::vector<std::pair<std::string, std::string>> ps{{"error", std::string(error)},
                                                            {"error_description", std::string(description)}};
        if (!r.state.empty()) ps.emplace_back("state", r.state);
        out.answer = redirect_to(with_params(r.redirect_uri, ps));
        return out;
    };
    if (param_or(ctx, "response_type") != "code")
        return fail("unsupported_response_type", "Only response_type=code is supported.");
    if (auto const* rm = param(ctx, "response_mode"); rm != nullptr && !rm->empty() && *rm != "query")
        return fail("invalid_request", "Only response_mode=query is supported.");
    if (r.state.size() > 1024) return fail("invalid_request", "state is too long.");
    auto const requested = split_scopes(param(ctx, "scope") != nullptr ? param_or(ctx, "scope") : "profile email");
    auto const allowed = split_scopes(r.app.scopes);
    for (auto const& s : requested)
        if (std::find(allowed.begin(), allowed.end(), s) == allowed.end())
            return fail("invalid_scope", "The scope '" + s + "' is not allowed for this application.");
    r.scope = join(requested);
    r.nonce = param_or(ctx, "nonce");
    if (r.nonce.size() > 1024) return fail("invalid_request", "nonce is too long.");
    r.code_challenge = param_or(ctx, "code_challenge");
    auto const method = param_or(ctx, "code_challenge_method");
    if (!r.code_challenge.empty()) {
        if (method != "S256") return fail("invalid_request", "code_challenge_method must be S256.");
        if (r.code_challenge.size() != 43) return fail("invalid_request", "code_challenge is not an S256 challenge.");
    } else if (r.app.is_public || r.app.pkce_required) {
        return fail("invalid_request", "This client must use PKCE (code_challenge with S256).");
    }
    r.prompt = param_or(ctx, "prompt");
    out.ok = std::move(r);
    return out;
}

/// The signed-in user of the request's client: (user id, session id), or nullopt.
std::optional<std::pair<std::string, std::string>> signed_in_user(app& a, request_ctx const& ctx) {
    if (ctx.client_id.empty()) return std::nullopt;
    auto s =
        txn::read(a, "oauth_session", [&](store::read_txn& t) -> store::result<std::optional<store::session_record>> {
            auto c = t.clients().get(ctx.client_id);
            if (!c) return c.error();
            if (!*c || (*c)->last_active_session_id.empty()) return std::optional<store::session_record>{};
            return t.sessions().get((*c)->last_active_session_id);
        });
    if (!s || !*s) return std::nullopt;
    if (!views::session_live(**s, ctx.now) || (*s)->status != "active") return std::nullopt;
    return std::pair{(*s)->user_id, (*s)->id};
}

/// Issues a code for `r` to `user` and answers the redirect with code and state.
api_result<reply> issue_code(app& a, request_ctx& ctx, authz const& r, std::string const& user_id,
                             std::string const& session_id) {
    std::string const code = crypto::random_token(32);
    store::oauth_code_record c;
    c.digest = digest_hex(code);
    c.client_id = r.app.client_id;
    c.user_id = user_id;
    c.session_id = session_id;
    c.redirect_uri = r.redirect_uri;
    c.scopes = r.scope;
    c.code_challenge = r.code_challenge;
    c.nonce = r.nonce;
    c.family_id = crypto::new_id("oaf");
    c.auth_time = ctx.now / 1000;
    c.expires_at = ctx.now + code_ttl_ms;
    auto w = txn::write(a, "oauth_issue_code", txn::on_client_error::abort,
                        [&](store::write_txn& t) { return t.oauth().put_code(c); });
    if (!w) return w.error();
    std::vector<std::pair<std::string, std::string>> ps{{"code", code}};
    if (!r.state.empty()) ps.emplace_back("state", r.state);
    return redirect_to(with_params(r.redirect_uri, ps));
}

std::string scope_description(std::string_view s) {
    if (s == "openid") return "Confirm your identity";
    if (s == "profile") return "View your name and profile picture";
    if (s == "email") return "View your email address";
    if (s == "public_metadata") return "View your public metadata";
    if (s == "private_metadata") return "View your private metadata";
    if (s == "offline_access") return "Stay signed in to the application";
    return std::string(s);
}

/// The consent page: the application, the scopes, and a form (allow / deny) posting every authorize parameter
/// to /v1/me/oauth/consent/{client_id}.
reply consent_page(app const& a, request_ctx& ctx, authz const& r) {
    std::string action = a.inst.frontend_api + "/v1/me/oauth/consent/" + pct(r.app.client_id);
    if (!ctx.dev_browser_id.empty()) {
        if (auto const* db = ctx.query.find("__clerk_db_jwt")) action += "?__clerk_db_jwt=" + pct(*db);
    }
    std::string html = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Authorize " +
                       html_escape(r.app.name) + "</title></head><body><main><h1>" + html_escape(r.app.name) +
                       " wants to access your account</h1><ul>";
    for (auto const& s : split_scopes(r.scope)) html += "<li>" + html_escape(scope_description(s)) + "</li>";
    html += "</ul><form method=\"post\" action=\"" + html_escape(action) + "\">";
    for (std::string_view k : {"response_type", "redirect_uri", "scope", "state", "nonce", "code_challenge",
                               "code_challenge_method", "prompt"}) {
        auto v = param_or(ctx, k);
        if (k == "redirect_uri") v = r.redirect_uri;
        if (k == "scope") v = r.scope;
        html += "<input type=\"hidden\" name=\"" + std::string(k) + "\" value=\"" + html_escape(v) + "\">";
    }
    html +=
        "<button type=\"submit\" name=\"consented\" value=\"true\" id=\"allow\">Allow</button>"
        "<button type=\"submit\" name=\"consented\" value=\"false\" id=\"deny\">Deny</button></form></main>"
        "</body></html>";
    ctx.headers.emplace_back("Content-Security-Policy",
                             "default-src 'none'; form-action 'self' " +
                                 r.redirect_uri.substr(0, r.redirect_uri.find('/', r.redirect_uri.find("//") + 2)) +
                                 "; frame-ancestors 'none'; base-uri 'none'");
    ctx.headers.emplace_back("X-Frame-Options", "DENY");
    ctx.headers.emplace_back("Cache-Control", "no-store");
    ctx.headers.emplace_back("Referrer-Policy", "no-referrer");
    reply out;
    out.content_type = "text/html; charset=utf-8";
    out.body = std::move(html);
    return out;
}

// ---- client authentication (token, token_info, revoke) ----

struct client_auth {
    std::optional<store::oauth_app_record> app;
    std::optional<reply> error;
};

/// HTTP Basic (RFC 6749 2.3.1, form-urlencoded parts) or client_id/client_secret in the form. A public client
/// presents its client_id only, and only where `allow_public`.
client_auth authenticate_client(app& a, request_ctx& ctx, bool allow_public) {
    client_auth out;
    std::string id, secret;
    bool basic = false, has_secret = false;
    if (auto it = ctx.req.find(http::field::authorization); it != ctx.req.end()) {
        std::string_view v = it->value();
        if (v.size() > 6 && (v.substr(0, 6) == "Basic " || v.substr(0, 6) == "basic ")) {
            basic = true;
            auto dec = crypto::base64_decode(v.substr(6));
            auto const colon = dec ? dec->find(':') : std::string::npos;
            if (!dec || colon == std::string::npos ||
                !percent_decode(std::string_view(*dec).substr(0, colon), id, true) ||
                !percent_decode(std::string_view(*dec).substr(colon + 1), secret, true)) {
                out.error = oauth_error(http::status::unauthorized, "invalid_client", "Malformed Basic credentials.");
                ctx.headers.emplace_back("WWW-Authenticate", "Basic realm=\"oauth\"");
                return out;
            }
            has_secret = true;
        }
    }
    if (!basic) {
        id = param_or(ctx, "client_id");
        if (auto const* s = ctx.form.find("client_secret")) {
            secret = *s;
            has_secret = true;
        }
    } else if (auto const* fid = ctx.form.find("client_id"); fid != nullptr && *fid != id) {
        out.error =
            oauth_error(http::status::bad_request, "invalid_request", "client_id differs from the Basic credentials.");
        return out;
    }
    auto fail = [&] {
        out.error = oauth_error(http::status::unauthorized, "invalid_client", "Client authentication failed.");
        if (basic) ctx.headers.emplace_back("WWW-Authenticate", "Basic realm=\"oauth\"");
        return out;
    };
    if (id.empty()) return fail();
    auto found = txn::read(a, "oauth_client_auth", [&](store::read_txn& t) { return t.oauth().app_by_client_id(id); });
    if (!found || !*found) return fail();
    auto const& app_rec = **found;
    if (app_rec.is_public) {
        if (!allow_public || has_secret) return fail();
    } else {
        if (!has_secret || !crypto::equal_ct(digest_hex(secret), app_rec.secret_digest)) return fail();
    }
    out.app = std::move(**found);
    return out;
}

// ---- tokens ----

struct issued {
    std::string access, refresh, id_token;
};

std::string new_access_token() { return "oat_" + crypto::random_token(32); }
std::string new_refresh_token() { return "ort_" + crypto::random_token(32); }

std::string primary_email(store::user_record const& u, bool* verified) {
    for (auto const& i : u.identifications)
        if (i.id == u.primary_email_address_id) {
            if (verified != nullptr) *verified = i.verification.status == "verified";
            return i.value;
        }
    return {};
}

/// The scope-gated user claims (userinfo, ID token).
void user_claims(app const& a, json::object& o, store::user_record const& u, std::string_view scopes) {
    if (has_scope(scopes, "email")) {
        bool verified = false;
        auto e = primary_email(u, &verified);
        if (!e.empty()) {
            o["email"] = e;
            o["email_verified"] = verified;
        }
    }
    if (has_scope(scopes, "profile")) {
        o["given_name"] = u.first_name;
        o["family_name"] = u.last_name;
        std::string name = u.first_name;
        if (!u.last_name.empty()) name += (name.empty() ? "" : " ") + u.last_name;
        o["name"] = name;
        if (!u.username.empty()) {
            o["preferred_username"] = u.username;
            o["username"] = u.username;
        }
        if (!u.image_url.empty()) o["picture"] = u.image_url;
    }
    auto meta = [](std::string const& text) {
        boost::system::error_code ec;
        auto v = json::parse(text, ec);
        return ec ? json::value(json::object{}) : v;
    };
    if (has_scope(scopes, "public_metadata")) o["public_metadata"] = meta(u.public_metadata);
    if (has_scope(scopes, "private_metadata")) {
        o["private_metadata"] = meta(u.private_metadata);
        o["unsafe_metadata"] = meta(u.unsafe_metadata);
    }
    (void)a;
}

api_result<std::string> sign_id_token(app& a, store::user_record const& u, std::string const& client_id,
                                      std::string_view scopes, std::string const& nonce, std::int64_t auth_time,
                                      std::int64_t now_ms) {
    json::object p;
    std::int64_t const iat = now_ms / 1000;
    p["iss"] = issuer_of(a);
    p["sub"] = u.id;
    p["aud"] = client_id;
    p["azp"] = client_id;
    p["iat"] = iat;
    p["exp"] = iat + id_token_ttl_s;
    (void)auth_time;  // not sent: no max_age support, and a refreshed ID token could not repeat it
    if (!nonce.empty()) p["nonce"] = nonce;
    p["jti"] = crypto::new_id("idt");
    user_claims(a, p, u, scopes);
    return domain::sign_jwt(a, json::serialize(p));
}

/// Writes a fresh access token (and refresh token) of `family` into `t`; returns the values.
store::result<issued> mint_pair(store::write_txn& t, std::string const& client_id, std::string const& user_id,
                                std::string const& scopes, std::string const& family, std::int64_t now) {
    issued out;
    out.access = new_access_token();
    store::oauth_token_record at;
    at.digest = digest_hex(out.access);
    {
        std::array<unsigned char, 16> raw{};
        crypto::random_bytes(raw);
        at.id = "oat_" + crypto::hex_encode(std::string_view(reinterpret_cast<char const*>(raw.data()), raw.size()));
    }
    at.kind = "access";
    at.client_id = client_id;
    at.user_id = user_id;
    at.scopes = scopes;
    at.family_id = family;
    at.created_at = now;
    at.expires_at = now + access_ttl_ms;
    if (auto r = t.oauth().put_token(at); !r) return r.error();
    out.refresh = new_refresh_token();
    auto rt = at;
    rt.digest = digest_hex(out.refresh);
    rt.id.clear();
    rt.kind = "refresh";
    rt.expires_at = now + refresh_ttl_ms;
    if (auto r = t.oauth().put_token(rt); !r) return r.error();
    return out;
}

reply token_reply(issued const& i, std::string const& scopes) {
    json::object o;
    o["access_token"] = i.access;
    o["token_type"] = "Bearer";
    o["expires_in"] = access_ttl_ms / 1000;
    o["refresh_token"] = i.refresh;
    o["scope"] = scopes;
    if (!i.id_token.empty()) o["id_token"] = i.id_token;
    return reply{http::status::ok, json::serialize(o), {}};
}

/// A grant outcome inside the write txn: the tokens, or an OAuth error (the txn still commits: a replayed code
/// or a reused refresh token revokes its family, and that revocation must land).
struct grant {
    std::optional<issued> tokens;
    std::string error, description;
    std::string user_id, scopes, nonce;
    std::int64_t auth_time = 0;
};

api_result<reply> finish_grant(app& a, request_ctx& ctx, store::result<grant> const& g, std::string const& client_id) {
    if (!g) return store_error(g.error(), "oauth_token");
    if (!g->tokens) return oauth_error(http::status::bad_request, g->error, g->description);
    issued out = *g->tokens;
    if (has_scope(g->scopes, "openid")) {
        auto u = txn::read(a, "oauth_token_user", [&](store::read_txn& t) { return t.users().get(g->user_id); });
        if (!u) return u.error();
        if (!*u) return oauth_error(http::status::bad_request, "invalid_grant", "The user no longer exists.");
        auto idt = sign_id_token(a, **u, client_id, g->scopes, g->nonce, g->auth_time, ctx.now);
        if (!idt) return idt.error();
        out.id_token = std::move(*idt);
    }
    ctx.headers.emplace_back("Pragma", "no-cache");
    return token_reply(out, g->scopes);
}

api_result<reply> code_grant(app& a, request_ctx& ctx, store::oauth_app_record const& client) {
    auto const code = param_or(ctx, "code");
    auto const redirect_uri = param_or(ctx, "redirect_uri");
    auto const verifier = param_or(ctx, "code_verifier");
    if (code.empty()) return oauth_error(http::status::bad_request, "invalid_request", "code is required.");
    auto g = a.db.with_write([&](store::write_txn& t) -> store::result<grant> {
        grant out;
        auto bad = [&](std::string d) {
            out.error = "invalid_grant";
            out.description = std::move(d);
            return out;
        };
        auto c = t.oauth().code(digest_hex(code));
        if (!c) return c.error();
        if (!*c || (*c)->client_id != client.client_id) return bad("The authorization code is invalid.");
        auto rec = **c;
        if (rec.used) {
            // A replayed code: revoke whatever it produced (RFC 6749 4.1.2).
            if (auto r = t.oauth().revoke_family(rec.family_id, "authorization_code_reuse"); !r) return r.error();
            return bad("The authorization code was already used.");
        }
        if (rec.expires_at <= ctx.now) return bad("The authorization code has expired.");
        if (redirect_uri != rec.redirect_uri) return bad("redirect_uri does not match the authorization request.");
        if (!rec.code_challenge.empty()) {
            if (!valid_verifier(verifier) || !crypto::equal_ct(s256(verifier), rec.code_challenge))
                return bad("The code_verifier does not match the code_challenge.");
        } else if (!verifier.empty()) {
            return bad("code_verifier given for an authorization without PKCE.");
        }
        rec.used = true;
        if (auto r = t.oauth().put_code(rec); !r) return r.error();
        auto pair = mint_pair(t, client.client_id, rec.user_id, rec.scopes, rec.family_id, ctx.now);
        if (!pair) return pair.error();
        out.tokens = std::move(*pair);
        out.user_id = rec.user_id;
        out.scopes = rec.scopes;
        out.nonce = rec.nonce;
        out.auth_time = rec.auth_time;
        return out;
    });
    return finish_grant(a, ctx, g, client.client_id);
}

api_result<reply> refresh_grant(app& a, request_ctx& ctx, store::oauth_app_record const& client) {
    auto const token = param_or(ctx, "refresh_token");
    if (token.empty()) return oauth_error(http::status::bad_request, "invalid_request", "refresh_token is required.");
    auto const* narrower = ctx.form.find("scope");
    auto g = a.db.with_write([&](store::write_txn& t) -> store::result<grant> {
        grant out;
        auto bad = [&](std::string e, std::string d) {
            out.error = std::move(e);
            out.description = std::move(d);
            return out;
        };
        auto r = t.oauth().token(digest_hex(token));
        if (!r) return r.error();
        if (!*r || (*r)->kind != "refresh" || (*r)->client_id != client.client_id)
            return bad("invalid_grant", "The refresh token is invalid.");
        auto rec = **r;
        if (rec.revoked) return bad("invalid_grant", "The refresh token was revoked.");
        if (rec.rotated) {
            if (auto x = t.oauth().revoke_family(rec.family_id, "refresh_token_reuse"); !x) return x.error();
            return bad("invalid_grant", "The refresh token was already used; its grant is revoked.");
        }
        if (rec.expires_at <= ctx.now) return bad("invalid_grant", "The refresh token has expired.");
        std::string scopes = rec.scopes;
        if (narrower != nullptr && !narrower->empty()) {
            auto const want = split_scopes(*narrower);
            for (auto const& s : want)
                if (!has_scope(rec.scopes, s)) return bad("invalid_scope", "The scope '" + s + "' was not granted.");
            scopes = join(want);
        }
        rec.rotated = true;
        if (auto x = t.oauth().put_token(rec); !x) return x.error();
        auto pair = mint_pair(t, client.client_id, rec.user_id, scopes, rec.family_id, ctx.now);
        if (!pair) return pair.error();
        out.tokens = std::move(*pair);
        out.user_id = rec.user_id;
        out.scopes = scopes;
        return out;
    });
    return finish_grant(a, ctx, g, client.client_id);
}

/// The live token record for a presented value (not revoked, not expired, its application still there).
std::optional<store::oauth_token_record> live_token(app& a, std::string_view value, std::int64_t now) {
    if (value.empty() || value.size() > 512) return std::nullopt;
    auto t = txn::read(a, "oauth_live_token",
                       [&](store::read_txn& r) -> store::result<std::optional<store::oauth_token_record>> {
                           auto tok = r.oauth().token(digest_hex(value));
                           if (!tok) return tok.error();
                           if (!*tok) return tok;
                           auto app_rec = r.oauth().app_by_client_id((*tok)->client_id);
                           if (!app_rec) return app_rec.error();
                           if (!*app_rec) return std::optional<store::oauth_token_record>{};
                           return tok;
                       });
    if (!t || !*t) return std::nullopt;
    if ((*t)->revoked || (*t)->expires_at <= now) return std::nullopt;
    return std::move(**t);
}

std::string metadata_json(app const& a, bool oidc) {
    auto const& iss = issuer_of(a);
    json::object o;
    o["issuer"] = iss;
    o["authorization_endpoint"] = iss + "/oauth/authorize";
    o["token_endpoint"] = iss + "/oauth/token";
    o["revocation_endpoint"] = iss + "/oauth/token/revoke";
    o["introspection_endpoint"] = iss + "/oauth/token_info";
    o["jwks_uri"] = iss + "/.well-known/jwks.json";
    o["response_types_supported"] = json::array{"code"};
    o["grant_types_supported"] = json::array{"authorization_code", "refresh_token"};
    o["token_endpoint_auth_methods_supported"] = json::array{"client_secret_basic", "client_secret_post", "none"};
    o["revocation_endpoint_auth_methods_supported"] = json::array{"client_secret_basic", "client_secret_post"};
    o["introspection_endpoint_auth_methods_supported"] = json::array{"client_secret_basic", "client_secret_post"};
    o["code_challenge_methods_supported"] = json::array{"S256"};
    o["scopes_supported"] =
        json::array{"openid", "profile", "email", "public_metadata", "private_metadata", "offline_access"};
    o["service_documentation"] = "https://clerk.com/docs/advanced-usage/clerk-idp";
    // RFC 7591 dynamic client registration, only where enabled (applications.cpp: register_client).
    if (a.cfg.oauth_dynamic_client_registration) o["registration_endpoint"] = iss + "/oauth/register";
    if (oidc) {
        o["userinfo_endpoint"] = iss + "/oauth/userinfo";
        o["response_modes_supported"] = json::array{"query"};
        o["subject_types_supported"] = json::array{"public"};
        o["id_token_signing_alg_values_supported"] = json::array{"RS256"};
        o["claims_supported"] = json::array{"iss",
                                            "sub",
                                            "aud",
                                            "exp",
                                            "iat",
                                            "nonce",
                                            "azp",
                                            "email",
                                            "email_verified",
                                            "name",
                                            "given_name",
                                            "family_name",
                                            "preferred_username",
                                            "picture",
                                            "public_metadata",
                                            "private_metadata"};
        o["request_parameter_supported"] = false;
        o["request_uri_parameter_supported"] = false;
        o["claims_parameter_supported"] = false;
        o["frontchannel_logout_supported"] = false;
        o["backchannel_logout_supported"] = false;
    }
    return json::serialize(o);
}

}  // namespace

// ---- handlers ----

api_result<reply> authorize(app& a, request_ctx& ctx) {
    auto checked = check_authorize(a, ctx, param_or(ctx, "client_id"));
    if (checked.answer) return std::move(*checked.answer);
    auto const& r = *checked.ok;
    auto user = signed_in_user(a, ctx);
    auto back = [&](std::string_view error, std::string_view d) {
        std::vector<std::pair<std::string, std::string>> ps{{"error", std::string(error)},
                                                            {"error_description", std::string(d)}};
        if (!r.state.empty()) ps.emplace_back("state", r.state);
        return redirect_to(with_params(r.redirect_uri, ps));
    };
    if (!user || r.prompt == "login") {
        if (r.prompt == "none") return back("login_required", "The user is not signed in.");
        // Sign in first, then come back here (the sign-in page's redirect_url).
        std::string self = a.inst.frontend_api + "/oauth/authorize";
        std::vector<std::pair<std::string, std::string>> ps;
        for (auto const& [k, v] : ctx.query.items())
            if (k != "__clerk_db_jwt" && !(k == "prompt" && v == "login")) ps.emplace_back(k, v);
        auto const urls = frontend::account_urls_of(a);
        return redirect_to(with_params(urls.sign_in, {{"redirect_url", with_params(self, ps)}}));
    }
    if (r.app.consent_screen_enabled || r.app.dynamically_registered || r.prompt == "consent") {
        if (r.prompt == "none") return back("consent_required", "The user has not consented.");
        return consent_page(a, ctx, r);
    }
    return issue_code(a, ctx, r, user->first, user->second);
}

api_result<reply> get_consent(app& a, request_ctx& ctx) {
    auto user = signed_in_user(a, ctx);
    if (!user) return make_error(code::authentication_invalid);
    auto found = txn::read(a, "oauth_consent_app",
                           [&](store::read_txn& t) { return t.oauth().app_by_client_id(ctx.params.get("client_id")); });
    if (!found) return found.error();
    if (!*found) return make_error(code::resource_not_found);
    auto const& app_rec = **found;
    std::string const ru = ctx.query.has("redirect_uri") ? *ctx.query.find("redirect_uri") : std::string();
    if (!ru.empty() &&
        std::find(app_rec.redirect_uris.begin(), app_rec.redirect_uris.end(), ru) == app_rec.redirect_uris.end())
        return param_error(code::form_param_value_invalid, "redirect_uri",
                           "redirect_uri does not match a registered redirect URI.");
    std::string const redirect =
        ru.empty() ? (app_rec.redirect_uris.empty() ? std::string() : app_rec.redirect_uris.front()) : ru;
    std::string domain = redirect;
    if (auto p = domain.find("://"); p != std::string::npos) {
        domain = domain.substr(p + 3);
        domain = domain.substr(0, domain.find_first_of("/?#"));
    }
    json::object o;
    o["object"] = "oauth_consent_info";
    o["oauth_application_name"] = app_rec.name;
    o["oauth_application_logo_url"] = app_rec.client_image_url;
    o["oauth_application_url"] = app_rec.client_uri;
    o["client_id"] = app_rec.client_id;
    o["redirect_domain"] = domain;
    json::array scopes;
    auto const requested = split_scopes(ctx.query.has("scope") ? std::string_view(*ctx.query.find("scope"))
                                                               : std::string_view(app_rec.scopes));
    for (auto const& s : requested) {
        json::object e;
        e["scope"] = s;
        e["description"] = scope_description(s);
        e["requires_consent"] = s != "openid";
        scopes.push_back(std::move(e));
    }
    o["scopes"] = std::move(scopes);
    return reply{http::status::ok, json::serialize(json::object{{"response", o}, {"client", nullptr}}), {}};
}

api_result<reply> post_consent(app& a, request_ctx& ctx) {
    auto checked = check_authorize(a, ctx, ctx.params.get("client_id"));
    if (checked.answer) return std::move(*checked.answer);
    auto const& r = *checked.ok;
    auto user = signed_in_user(a, ctx);
    if (!user) return make_error(code::authentication_invalid);
    reply out;
    if (param_or(ctx, "consented") != "true") {
        std::vector<std::pair<std::string, std::string>> ps{{"error", "access_denied"},
                                                            {"error_description", "The user denied the request."}};
        if (!r.state.empty()) ps.emplace_back("state", r.state);
        out = redirect_to(with_params(r.redirect_uri, ps));
    } else {
        auto issued_code = issue_code(a, ctx, r, user->first, user->second);
        if (!issued_code) return issued_code.error();
        out = std::move(*issued_code);
    }
    out.status = http::status::see_other;  // the form's POST becomes a GET to the redirect URI
    return out;
}

api_result<reply> token(app& a, request_ctx& ctx) {
    auto const grant_type = param_or(ctx, "grant_type");
    if (grant_type != "authorization_code" && grant_type != "refresh_token")
        return oauth_error(http::status::bad_request, grant_type.empty() ? "invalid_request" : "unsupported_grant_type",
                           grant_type.empty() ? "grant_type is required." : "Unsupported grant_type.");
    auto client = authenticate_client(a, ctx, true);
    if (client.error) return std::move(*client.error);
    if (grant_type == "authorization_code") return code_grant(a, ctx, *client.app);
    return refresh_grant(a, ctx, *client.app);
}

api_result<reply> userinfo(app& a, request_ctx& ctx) {
    std::string value;
    if (auto it = ctx.req.find(http::field::authorization); it != ctx.req.end()) {
        std::string_view v = it->value();
        if (v.size() > 7 && (v.substr(0, 7) == "Bearer " || v.substr(0, 7) == "bearer ")) value = v.substr(7);
    } else if (auto const* f = ctx.form.find("access_token")) {
        value = *f;  // RFC 6750 2.2
    }
    auto deny = [&](std::string_view error, std::string_view d) {
        ctx.headers.emplace_back("WWW-Authenticate", "Bearer error=\"" + std::string(error) + "\"");
        return oauth_error(http::status::unauthorized, error, d);
    };
    if (value.empty()) return deny("invalid_request", "A Bearer access token is required.");
    auto tok = live_token(a, value, ctx.now);
    if (!tok || tok->kind != "access") return deny("invalid_token", "The access token is invalid, expired or revoked.");
    auto u = txn::read(a, "oauth_userinfo", [&](store::read_txn& t) { return t.users().get(tok->user_id); });
    if (!u) return u.error();
    if (!*u) return deny("invalid_token", "The user no longer exists.");
    json::object o;
    o["object"] = "oauth_user_info";
    o["instance_id"] = a.inst.id;
    o["sub"] = tok->user_id;
    o["user_id"] = tok->user_id;
    user_claims(a, o, **u, tok->scopes);
    return reply{http::status::ok, json::serialize(o), {}};
}

api_result<reply> token_info(app& a, request_ctx& ctx) {
    auto client = authenticate_client(a, ctx, false);
    if (client.error) return std::move(*client.error);
    auto const value = param_or(ctx, "token");
    if (value.empty()) return oauth_error(http::status::bad_request, "invalid_request", "token is required.");
    auto tok = live_token(a, value, ctx.now);
    json::object o;
    if (!tok || tok->client_id != client.app->client_id) {
        o["active"] = false;  // RFC 7662 2.2: nothing about a token of another client
    } else {
        o["active"] = true;
        o["client_id"] = tok->client_id;
        o["sub"] = tok->user_id;
        o["scope"] = tok->scopes;
        o["iat"] = tok->created_at / 1000;
        o["exp"] = tok->expires_at / 1000;
        o["iss"] = issuer_of(a);
        o["token_type"] = tok->kind == "access" ? "access_token" : "refresh_token";
    }
    return reply{http::status::ok, json::serialize(o), {}};
}

api_result<reply> revoke(app& a, request_ctx& ctx) {
    auto client = authenticate_client(a, ctx, false);
    if (client.error) return std::move(*client.error);
    auto const value = param_or(ctx, "token");
    if (value.empty()) return oauth_error(http::status::bad_request, "invalid_request", "token is required.");
    if (value.size() <= 512) {
        auto w = a.db.with_write([&](store::write_txn& t) -> store::result<void> {
            auto tok = t.oauth().token(digest_hex(value));
            if (!tok) return tok.error();
            if (!*tok || (*tok)->client_id != client.app->client_id) return {};  // RFC 7009 2.2: 200 all the same
            if ((*tok)->kind == "refresh") {
                // Revoking a refresh token revokes its grant: the access tokens issued from it too.
                auto r = t.oauth().revoke_family((*tok)->family_id, "revoked_by_client");
                if (!r) return r.error();
                return {};
            }
            auto rec = **tok;
            rec.revoked = true;
            rec.revocation_reason = "revoked_by_client";
            return t.oauth().put_token(rec);
        });
        if (!w) return store_error(w.error(), "oauth_revoke");
    }
    return reply{http::status::ok, {}, {}};
}

api_result<reply> openid_configuration(app& a, request_ctx&) {
    return reply{http::status::ok, metadata_json(a, true), {}};
}

api_result<reply> authorization_server_metadata(app& a, request_ctx&) {
    return reply{http::status::ok, metadata_json(a, false), {}};
}

api_result<reply> verify_access_token(app& a, request_ctx& ctx) {
    // BAPI POST /v1/oauth_applications/access_tokens/verify: what @clerk/backend's authenticateRequest({acceptsToken:
    // 'oauth_token'}) calls for an opaque `oat_` token. Revoked and expired tokens are answered with their flags.
    auto v = backend::body_string(ctx, "access_token", 512);
    if (!v) return v.error();
    if (!*v) {
        v = backend::body_string(ctx, "secret", 512);  // deprecated name
        if (!v) return v.error();
    }
    if (!*v || (*v)->empty()) return param_error(code::form_param_missing, "access_token");
    auto tok = txn::read(a, "oauth_verify_access_token",
                         [&](store::read_txn& t) -> store::result<std::optional<store::oauth_token_record>> {
                             auto r = t.oauth().token(digest_hex(**v));
                             if (!r) return r.error();
                             if (!*r || (*r)->kind != "access") return std::optional<store::oauth_token_record>{};
                             auto app_rec = t.oauth().app_by_client_id((*r)->client_id);
                             if (!app_rec) return app_rec.error();
                             if (!*app_rec) return std::optional<store::oauth_token_record>{};
                             return r;
                         });
    if (!tok) return tok.error();
    if (!*tok) return make_error(code::resource_not_found);
    auto const& t = **tok;
    json::object o;
    o["object"] = "clerk_idp_oauth_access_token";
    o["id"] = t.id;
    o["client_id"] = t.client_id;
    o["subject"] = t.user_id;
    json::array scopes;
    for (auto const& s : split_scopes(t.scopes)) scopes.emplace_back(s);
    o["scopes"] = std::move(scopes);
    o["revoked"] = t.revoked;
    o["revocation_reason"] = t.revoked ? json::value(t.revocation_reason) : json::value(nullptr);
    o["expired"] = t.expires_at <= ctx.now;
    o["expiration"] = t.expires_at / 1000;
    o["created_at"] = t.created_at / 1000;
    o["updated_at"] = t.created_at / 1000;
    return reply{http::status::ok, json::serialize(o), {}};
}

}  // namespace latchkey::server::api::oauth
