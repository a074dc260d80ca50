#include "server/api/email_links/email_links.hpp"

#include "crypto/ossl.hpp"
#include "crypto/random.hpp"
#include "server/api/dispatch.hpp"
#include "server/api/events.hpp"
#include "server/api/frontend/common.hpp"
#include "server/api/frontend/identity.hpp"
#include "server/api/txn.hpp"

namespace latchkey::server::api::email_links {

namespace {

/// What the opened link did: the `__clerk_status` to report and where to.
struct outcome {
    std::string status;  ///< verified | expired | failed
    std::string redirect_url;
    std::string created_session_id;
};

struct token_parts {
    std::string_view owner;
    std::string_view target;
    std::string_view secret;
};

std::optional<token_parts> split_token(std::string_view t) {
    auto a = t.find('.');
    if (a == std::string_view::npos) return std::nullopt;
    auto b = t.find('.', a + 1);
    if (b == std::string_view::npos || t.find('.', b + 1) != std::string_view::npos) return std::nullopt;
    token_parts p{t.substr(0, a), t.substr(a + 1, b - a - 1), t.substr(b + 1)};
    if (p.owner.empty() || p.secret.empty() || p.owner.size() > 64 || p.target.size() > 64 || p.secret.size() > 128)
        return std::nullopt;
    return p;
}

/// Checks the link against the challenge in `v` and, when it holds, marks `v` verified (single use).
/// The answer is the status to report.
std::string check(app const& a, request_ctx const& ctx, store::verification_record& v, token_parts const& p) {
    if (v.strategy != strategy || v.target_id != p.target) return "failed";
    if (v.status == "verified" || v.code_digest.empty()) return "failed";  // used (or never sent)
    if (!crypto::equal_ct(frontend::code_digest(a, p.secret), v.code_digest)) return "failed";
    if (v.status == "expired" || (v.expire_at != 0 && ctx.now > v.expire_at)) {
        v.status = "expired";
        v.code_digest.clear();
        return "expired";
    }
    v.status = "verified";
    v.verified_at = ctx.now;
    v.code_digest.clear();
    v.verified_at_client = ctx.client_id;
    return "verified";
}

/// A request context for completing the attempt on its own client `client_id`: the opener's cookies and
/// credentials are not the attempt's, so nothing it would send (a rotated __client) reaches the opener.
request_ctx attempt_ctx(request_ctx const& ctx, std::string const& client_id) {
    request_ctx inner(ctx.req);
    inner.method = ctx.method;
    inner.path = ctx.path;
    inner.request_id = ctx.request_id;
    inner.remote_ip = ctx.remote_ip;
    inner.origin = ctx.origin;
    inner.azp = ctx.azp;
    inner.now = ctx.now;
    inner.client_id = client_id;
    return inner;
}

/// Completing an attempt started a session on its client and rotated the client's cookie credential; when the
/// opener is another browser, the original tab keeps its credential (it never left that browser).
api_result<void> keep_credential(store::write_txn& w, std::string const& client_id, std::string const& digest) {
    auto c = w.clients().get(client_id);
    if (!c) return store_error(c.error(), "get_client");
    if (!*c || (*c)->credential_digest == digest) return {};
    (*c)->credential_digest = digest;
    if (auto r = w.clients().put(**c); !r) return store_error(r.error(), "put_client");
    return {};
}

api_result<std::string> client_digest(store::read_txn const& t, std::string const& client_id) {
    auto c = t.clients().get(client_id);
    if (!c) return store_error(c.error(), "get_client");
    return *c ? (*c)->credential_digest : std::string{};
}

/// Runs `finish(inner_ctx)` (which completes the attempt) as the attempt's client, keeping the original tab's
/// credential when the opener is another browser.
template <class F>
api_result<void> as_attempt_client(request_ctx& ctx, store::write_txn& w, std::string const& client_id, F&& finish) {
    // The same browser by its __client cookie: the rotated cookie goes back to it (one cookie jar for both tabs).
    // A dev browser token is not shared that way, so a dev browser is treated like another browser.
    if (!ctx.client_id.empty() && ctx.client_id == client_id && ctx.cookie_auth && ctx.dev_browser_id.empty())
        return finish(ctx);
    auto digest = client_digest(w, client_id);
    if (!digest) return digest.error();
    request_ctx inner = attempt_ctx(ctx, client_id);
    if (auto r = finish(inner); !r) return r;
    return keep_credential(w, client_id, *digest);
}

api_result<outcome> verify_sign_in(app& a, request_ctx& ctx, store::write_txn& w, token_parts const& p) {
    auto si = w.sign_ins().get(p.owner);
    if (!si) return store_error(si.error(), "get_sign_in");
    if (!*si) return make_error(code::resource_not_found);
    auto& s = **si;
    outcome out{check(a, ctx, s.first_factor, p), s.first_factor.redirect_url, {}};
    bool const usable = s.status == "needs_first_factor" && (s.abandon_at == 0 || ctx.now <= s.abandon_at);
    if (out.status == "verified" && !usable) out.status = "failed";
    if (out.status == "verified") {
        if (auto r =
                as_attempt_client(ctx, w, s.client_id, [&](request_ctx& c) { return complete_sign_in(a, c, w, s); });
            !r) {
            if (r.error().status >= http::status::internal_server_error) return r.error();
            out.status = "failed";  // the account was locked or banned since: refused before anything was written,
            return out;             // and the challenge stays as it was
        }
        out.created_session_id = s.created_session_id;
    }
    s.updated_at = ctx.now;
    if (auto r = w.sign_ins().put(s); !r) return store_error(r.error(), "put_sign_in");
    return out;
}

api_result<outcome> verify_sign_up(app& a, request_ctx& ctx, store::write_txn& w, token_parts const& p) {
    auto su = w.sign_ups().get(p.owner);
    if (!su) return store_error(su.error(), "get_sign_up");
    if (!*su) return make_error(code::resource_not_found);
    auto& s = **su;
    outcome out{check(a, ctx, s.email_verification, p), s.email_verification.redirect_url, {}};
    if (out.status == "verified" && s.status != "missing_requirements") out.status = "failed";
    if (out.status == "verified") {
        auto r = as_attempt_client(ctx, w, s.client_id, [&](request_ctx& c) -> api_result<void> {
            auto client = w.clients().get(s.client_id);
            if (!client) return store_error(client.error(), "get_client");
            if (!*client) return make_error(code::resource_not_found);
            return frontend::complete_sign_up(a, c, w, s, **client);
        });
        if (!r) return r.error();
        out.created_session_id = s.created_session_id;
    }
    s.updated_at = ctx.now;
    if (auto r = w.sign_ups().put(s); !r) return store_error(r.error(), "put_sign_up");
    return out;
}

api_result<outcome> verify_email_address(app& a, request_ctx& ctx, store::write_txn& w, token_parts const& p) {
    auto u = w.users().get(p.owner);
    if (!u) return store_error(u.error(), "get_user");
    if (!*u) return make_error(code::resource_not_found);
    store::user_record const before = **u;
    auto& user = **u;
    store::identification_record* idn = nullptr;
    for (auto& i : user.identifications)
        if (i.id == p.target && i.kind == "email_address") idn = &i;
    if (idn == nullptr) return make_error(code::resource_not_found);
    outcome out{check(a, ctx, idn->verification, p), idn->verification.redirect_url, {}};
    idn->updated_at = ctx.now;
    if (out.status == "verified" && user.primary_email_address_id.empty()) user.primary_email_address_id = idn->id;
    user.updated_at = ctx.now;
    if (auto r = w.users().put(user, &before); !r) return store_error(r.error(), "put_user", "email_address");
    if (out.status == "verified")
        if (auto e = events::user_changed(a, w, "user.updated", user, &ctx); !e)
            return store_error(e.error(), "webhook");
    return out;
}

std::string with_status(std::string url, outcome const& o) {
    std::string fragment;
    if (auto hash = url.find('#'); hash != std::string::npos) {
        fragment = url.substr(hash);
        url.resize(hash);
    }
    url += url.find('?') == std::string::npos ? '?' : '&';
    url += "__clerk_status=" + o.status;
    if (!o.created_session_id.empty()) url += "&__clerk_created_session=" + o.created_session_id;
    return url + fragment;
}

}  // namespace

bool enabled(app const& a) {
    for (auto const& f : a.cfg.first_factors)
        if (f == strategy) return true;
    return false;
}

api_result<std::string> checked_redirect(app const& a, request_ctx const& ctx) {
    if (!enabled(a))
        return param_error(code::form_param_value_invalid, "strategy", "Email links are not enabled on this instance.");
    auto raw = frontend::field(ctx, "redirect_url");
    if (!raw || raw->empty()) return std::string{};
    auto ok = allowed_redirect(a, *raw);
    if (!ok)
        return param_error(code::form_param_value_invalid, "redirect_url",
                           "redirect_url must be on the application's own origin or an allowed redirect origin.");
    return std::move(*ok);
}

api_result<void> prepare(app& a, request_ctx const& ctx, store::write_txn& w, store::verification_record& v,
                         std::string_view owner_id, std::string_view target_id, std::string_view to,
                         std::string redirect_url, std::string_view user_id) {
    std::string const secret = crypto::random_token(24);
    v = {};
    v.status = "unverified";
    v.strategy = std::string(strategy);
    v.code_digest = frontend::code_digest(a, secret);
    v.target_id = std::string(target_id);
    v.expire_at = ctx.now + a.cfg.protection.code_ttl.count() * 1000;
    v.redirect_url = std::move(redirect_url);
    std::string link = a.inst.frontend_api;
    link += "/v1/verify?token=";
    link += owner_id;
    link += '.';
    link += target_id;
    link += '.';
    link += secret;
    message m{"email", std::string(to), std::string(strategy), std::move(link)};
    if (auto r = events::send_code(a, w, ctx, m, user_id, target_id); !r) return store_error(r.error(), "send_link");
    return {};
}

api_result<reply> verify(app& a, request_ctx& ctx) {
    auto const* token = ctx.query.find("token");
    if (token == nullptr || token->empty()) return param_error(code::form_param_missing, "token");
    auto p = split_token(*token);
    if (!p) return param_error(code::form_param_format_invalid, "token");
    // The opener's client, when its browser carries one (the same browser as the attempt, typically).
    if (!frontend::resolve_identity(a, ctx)) ctx.client_id.clear();
    auto out = txn::write<outcome>(a, "verify_email_link", txn::on_client_error::abort,
                                   [&](store::write_txn& w) -> api_result<outcome> {
                                       if (p->owner.starts_with("sia_")) return verify_sign_in(a, ctx, w, *p);
                                       if (p->owner.starts_with("sua_")) return verify_sign_up(a, ctx, w, *p);
                                       if (p->owner.starts_with("user_")) return verify_email_address(a, ctx, w, *p);
                                       return make_error(code::resource_not_found);
                                   });
    if (!out) return out.error();
    reply r;
    if (!out->redirect_url.empty()) {
        r.status = http::status::see_other;
        r.location = with_status(out->redirect_url, *out);
        return r;
    }
    // No redirect_url: a page of our own that says what happened (no script, nothing external).
    ctx.headers.emplace_back("Content-Security-Policy", "default-src 'none'");
    ctx.headers.emplace_back("Cache-Control", "no-store");
    ctx.headers.emplace_back("X-Content-Type-Options", "nosniff");
    r.content_type = "text/html; charset=utf-8";
    std::string_view const text = out->status == "verified"  ? "Verified. You can return to the original tab."
                                  : out->status == "expired" ? "This link has expired. Request a new one."
                                                             : "This link is invalid or has already been used.";
    r.body = "<!doctype html><meta charset=\"utf-8\"><title>" + std::string(text) + "</title><p>" + std::string(text) +
             "</p>";
    if (out->status != "verified") r.status = http::status::bad_request;
    return r;
}

}  // namespace latchkey::server::api::email_links
