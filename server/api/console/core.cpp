// The console's rules: roles and rights, console-session authorisation (cookie, timeouts, CSRF, Origin), the audit
// log, and the store work the CLI shares (operators, links).
#include "server/api/console/console.hpp"

#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "crypto/ossl.hpp"
#include "crypto/password.hpp"
#include "crypto/random.hpp"
#include "server/api/domain/client_credentials.hpp"
#include "server/api/txn.hpp"
#include "server/log.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include <cctype>

#include <algorithm>
#include <array>
#include <charconv>

namespace latchkey::server::api::console {

namespace json = boost::json;

namespace {

/// "scheme://host[:port]" the browser would send as Origin for this listener, for both schemes (the listener's
/// scheme is fixed by the config: TLS when a certificate is configured).
bool same_origin(app const& a, request_ctx const& ctx) {
    auto host = ctx.req.find(http::field::host);
    if (host == ctx.req.end() || host->value().empty() || ctx.origin.empty()) return false;
    std::string const expected =
        std::string(a.cfg.tls_cert.empty() ? "http://" : "https://") + std::string(host->value());
    return ctx.origin == expected;
}

std::string_view header(request_ctx const& ctx, std::string_view name) {
    auto it = ctx.req.find(name);
    return it == ctx.req.end() ? std::string_view{} : std::string_view(it->value());
}

}  // namespace

std::string_view required_right(http::verb method, std::string_view pattern) {
    if (pattern.starts_with("/v1/actor_tokens")) return "impersonate";
    // A console session may always read itself, its audit log and end itself.
    if (pattern == "/console/api/sign_out" || pattern == "/console/api/session" || pattern == "/console/api/audit" ||
        pattern == "/console/api/stats")
        return "read";
    if (pattern.starts_with("/console/api/operators")) return "operators";
    if (pattern.starts_with("/v1/exports")) return "export";
    if (pattern.starts_with("/v1/signing_keys") && method != http::verb::get) return "keys";
    if (method == http::verb::get || method == http::verb::head) return "read";
    return "write";
}

bool valid_role(std::string_view role) { return role == "admin" || role == "support" || role == "viewer"; }

bool role_allows(std::string_view role, std::string_view right) {
    if (role == "admin") return true;
    if (role == "support") return right == "read" || right == "write";
    if (role == "viewer") return right == "read";
    return false;
}

bool is_console_request(request_ctx const& ctx) {
    return ctx.cookies.has(cookie_name) && ctx.req.find(http::field::authorization) == ctx.req.end();
}

api_result<login> find_login(app& a, std::string_view token) {
    auto const digest = domain::secret_digest_hex(token);
    return txn::read(a, "console session", [&](store::read_txn& t) -> store::result<api_result<login>> {
        auto s = t.console().session(digest);
        if (!s) return s.error();
        if (!*s) return api_result<login>(make_error(code::console_session_invalid));
        auto o = t.console().operator_by_id((*s)->operator_id);
        if (!o) return o.error();
        if (!*o || (*o)->role == removed_role) return api_result<login>(make_error(code::console_session_invalid));
        return api_result<login>(login{std::move(**s), std::move(**o)});
    });
}

api_result<std::size_t> limit_param(request_ctx const& ctx, std::size_t fallback, std::size_t max) {
    auto const* l = ctx.query.find("limit");
    if (l == nullptr) return fallback;
    std::size_t n = 0;
    auto [p, ec] = std::from_chars(l->data(), l->data() + l->size(), n);
    if (ec != std::errc{} || p != l->data() + l->size() || n == 0 || n > max)
        return param_error(code::form_param_value_invalid, "limit",
                           "limit must be between 1 and " + std::to_string(max) + ".");
    return n;
}

api_result<void> authorize(app& a, request_ctx& ctx, std::string_view pattern) {
    auto const* token = ctx.cookies.find(cookie_name);
    if (token == nullptr || token->empty() || token->size() > 256) return make_error(code::console_session_invalid);
    auto const now = ctx.now;
    auto f = find_login(a, *token);
    if (!f) return f.error();
    auto& s = f->session;
    auto const& op = f->op;
    if (s.ended_at != 0 || now - s.last_active_at >= idle_timeout_ms || now - s.created_at >= absolute_timeout_ms)
        return make_error(code::console_session_invalid);
    // Known from here on: a refused write below is audited as this operator's (dispatch's audit_request).
    ctx.console_operator_id = op.id;
    ctx.console_operator_name = op.name;
    ctx.console_session_id = s.id;
    ctx.headers.emplace_back("Cache-Control", "no-store");
    if (ctx.method != http::verb::get && ctx.method != http::verb::head) {
        // CSRF: the session's token echoed in a header (a cross-site page cannot read it) and the listener's own
        // Origin (a cross-site request carries another, or the cookie is not sent at all: SameSite=Strict).
        if (!crypto::equal_ct(header(ctx, csrf_header), s.csrf) || !same_origin(a, ctx))
            return make_error(code::console_csrf_invalid);
    }
    if (!role_allows(op.role, required_right(ctx.method, pattern))) return make_error(code::operator_right_missing);
    if (now - s.last_active_at >= touch_interval_ms) {
        auto const d = s.digest;
        (void)txn::write(a, "console session touch", txn::on_client_error::abort,
                         [&](store::write_txn& w) -> store::result<void> {
                             auto cur = w.console().session(d);
                             if (!cur) return cur.error();
                             if (!*cur) return {};
                             (*cur)->last_active_at = now;
                             return w.console().put_session(**cur);
                         });
    }
    return {};
}

void audit(app& a, std::string_view operator_id, std::string_view operator_name, std::string_view action,
           std::string_view target, std::string_view ip, unsigned status, std::string_view detail) {
    store::audit_record r;
    r.at = a.now_ms();
    r.id = crypto::new_id("aud", static_cast<std::uint64_t>(r.at));
    r.operator_id = operator_id;
    r.operator_name = operator_name;
    r.action = action;
    r.target = target;
    r.ip = ip;
    r.status = static_cast<std::int32_t>(status);
    r.detail = detail;
    auto w = a.db.with_write([&](store::write_txn& t) { return t.console().put_audit(r); });
    if (!w) log::error("console_audit_failed", {{"action", r.action}, {"error", w.error().message()}});
}

void audit_request(app& a, request_ctx const& ctx, std::string_view pattern, unsigned status) {
    if (ctx.console_operator_id.empty() || ctx.method == http::verb::get || ctx.method == http::verb::head) return;
    std::string target;
    for (std::string_view p :
         {"user_id", "session_id", "organization_id", "email_address_id", "phone_number_id", "template_id",
          "actor_token_id", "waitlist_entry_id", "invitation_id", "operator_id", "delivery_id", "domain_id", "kid"}) {
        if (auto v = ctx.params.get(p); !v.empty()) {
            target = v;
            break;
        }
    }
    if (target.empty()) {
        // The object named in the body (POST /v1/actor_tokens {user_id}); a refused request's body was never
        // parsed by dispatch, so it is read here (bounded by the transport's body limit).
        json::value body = ctx.body;
        if (!body.is_object() && !ctx.req.body().empty()) {
            boost::system::error_code ec;
            body = json::parse(ctx.req.body(), ec);
        }
        if (body.is_object())
            if (auto const* u = body.get_object().if_contains("user_id"); u != nullptr && u->is_string())
                target = std::string_view(u->get_string()).substr(0, 128);
    }
    std::string action = std::string(http::to_string(ctx.method)) + " " + std::string(pattern);
    audit(a, ctx.console_operator_id, ctx.console_operator_name, action, target, ctx.remote_ip, status,
          ctx.console_session_id);
}

store::result<store::operator_record> add_operator(store::database& db, std::string_view name, std::string_view role,
                                                   std::string_view password, std::string_view totp_secret,
                                                   std::int64_t now_ms) {
    store::operator_record o;
    o.id = crypto::new_id("op", static_cast<std::uint64_t>(now_ms));
    o.name = name;
    std::transform(o.name.begin(), o.name.end(), o.name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    o.role = role;
    if (!password.empty()) {
        auto h = crypto::hash_password(password);
        if (!h) return store::make_error_code(store::errc::invalid_key);
        o.password_digest = std::move(*h);
    }
    o.totp_secret = totp_secret;
    o.created_at = o.updated_at = now_ms;
    auto r = db.with_write([&](store::write_txn& w) { return w.console().put_operator(o, true); });
    if (!r) return r.error();
    return o;
}

store::result<std::string> create_link(store::database& db, std::string_view name, std::int64_t now_ms,
                                       std::int64_t ttl_ms) {
    std::string token = crypto::random_token(32);
    store::console_link_record l;
    l.digest = domain::secret_digest_hex(token);
    l.created_at = now_ms;
    l.expires_at = now_ms + ttl_ms;
    auto r = db.with_write([&](store::write_txn& w) -> store::result<void> {
        auto o = w.console().operator_by_name(name);
        if (!o) return o.error();
        if (*o && (*o)->role == removed_role) return store::make_error_code(store::errc::not_found);
        if (!*o) {
            if (name != "owner") return store::make_error_code(store::errc::not_found);
            store::operator_record owner;
            owner.id = crypto::new_id("op", static_cast<std::uint64_t>(now_ms));
            owner.name = "owner";
            owner.role = "admin";
            owner.created_at = owner.updated_at = now_ms;
            if (auto p = w.console().put_operator(owner, true); !p) return p;
            l.operator_id = owner.id;
        } else {
            l.operator_id = (*o)->id;
        }
        return w.console().put_link(l);
    });
    if (!r) return r.error();
    return token;
}

json::object operator_json(store::operator_record const& o) {
    return {{"object", "operator"},
            {"id", o.id},
            {"name", o.name},
            {"role", o.role},
            {"has_password", !o.password_digest.empty()},
            {"totp_enabled", !o.totp_secret.empty()},
            {"locked_until", o.locked_until},
            {"last_sign_in_at", o.last_sign_in_at},
            {"created_at", o.created_at}};
}

json::object audit_json(store::audit_record const& r) {
    return {{"object", "audit_entry"},
            {"id", r.id},
            {"at", r.at},
            {"operator_id", r.operator_id},
            {"operator_name", r.operator_name},
            {"action", r.action},
            {"target", r.target},
            {"ip", r.ip},
            {"status", r.status},
            {"detail", r.detail}};
}

}  // namespace latchkey::server::api::console
