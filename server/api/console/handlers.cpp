// The console's own endpoints on the backend listener: sign-in by a one-time link (GET /console/link) or by name,
// password and TOTP code (POST /console/api/sign_in), the session (GET /console/api/session), sign-out, and the
// audit log (GET /console/api/audit). Everything else the console does goes through the Backend API's own routes,
// authorised by the console session in dispatch.
#include "server/api/console/handlers.hpp"

#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "crypto/ossl.hpp"
#include "crypto/password.hpp"
#include "crypto/random.hpp"
#include "crypto/totp.hpp"
#include "server/api/console/console.hpp"
#include "server/api/console/counters.hpp"
#include "server/api/domain/client_credentials.hpp"
#include "server/api/txn.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <charconv>

namespace latchkey::server::api::console {

namespace json = boost::json;

namespace {

std::string_view user_agent(request_ctx const& ctx) {
    auto it = ctx.req.find(http::field::user_agent);
    return it == ctx.req.end() ? std::string_view{} : std::string_view(it->value()).substr(0, 256);
}

std::string cookie(app const& a, std::string_view value, std::int64_t max_age_s) {
    std::string c = std::string(cookie_name) + "=" + std::string(value) +
                    "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age_s);
    if (!a.cfg.tls_cert.empty()) c += "; Secure";
    return c;
}

/// A new console session for `operator_id`, written in `w`; `token` receives the cookie's value. Returns the
/// session record (its id and CSRF token).
store::result<store::console_session_record> start_session(request_ctx& ctx, store::write_txn& w,
                                                           std::string_view operator_id, std::string& token) {
    token = crypto::random_token(32);
    store::console_session_record s;
    s.digest = domain::secret_digest_hex(token);
    s.id = crypto::new_id("cs", static_cast<std::uint64_t>(ctx.now));
    s.operator_id = operator_id;
    s.csrf = crypto::random_token(24);
    s.ip = ctx.remote_ip;
    s.user_agent = user_agent(ctx);
    s.created_at = s.last_active_at = ctx.now;
    if (auto r = w.console().put_session(s); !r) return r.error();
    return s;
}

/// The reply of a session read: the operator and the CSRF token the console echoes on writes.
json::object session_json(store::operator_record const& op, std::string_view csrf, std::string_view session_id) {
    json::object o;
    o["object"] = "console_session";
    o["id"] = session_id;
    o["operator"] = operator_json(op);
    o["csrf_token"] = csrf;
    json::array rights;
    for (std::string_view r : {"read", "write", "impersonate", "operators", "export", "keys"})
        if (role_allows(op.role, r)) rights.emplace_back(r);
    o["rights"] = std::move(rights);
    return o;
}

reply json_reply(json::object const& o) {
    reply r;
    r.body = json::serialize(o);
    return r;
}

bool same_origin(app const& a, request_ctx const& ctx) {
    auto host = ctx.req.find(http::field::host);
    if (host == ctx.req.end() || ctx.origin.empty()) return false;
    return ctx.origin == std::string(a.cfg.tls_cert.empty() ? "http://" : "https://") + std::string(host->value());
}

/// The argon2id digest of a password nobody knows, verified when the operator name is unknown so both answers
/// take the same time.
std::string const& decoy_digest() {
    static std::string const d = [] {
        auto h = crypto::hash_password(crypto::random_token(16));
        return h ? *h : std::string{};
    }();
    return d;
}

}  // namespace

api_result<reply> open_link(app& a, request_ctx& ctx) {
    auto const* token = ctx.query.find("token");
    if (token == nullptr || token->empty() || token->size() > 256)
        return param_error(code::console_link_invalid, "token");
    auto const digest = domain::secret_digest_hex(*token);
    std::string session_token;
    std::string op_id, op_name;
    auto r = txn::write(a, "console link", txn::on_client_error::abort,
                        [&](store::write_txn& w) -> store::result<api_result<void>> {
                            auto l = w.console().link(digest);
                            if (!l) return l.error();
                            if (!*l || (*l)->used_at != 0 || ctx.now >= (*l)->expires_at)
                                return api_result<void>(param_error(code::console_link_invalid, "token"));
                            auto o = w.console().operator_by_id((*l)->operator_id);
                            if (!o) return o.error();
                            if (!*o || (*o)->role == removed_role)
                                return api_result<void>(param_error(code::console_link_invalid, "token"));
                            (*l)->used_at = ctx.now;  // single use: the link is spent in the txn that signs in
                            if (auto p = w.console().put_link(**l); !p) return p.error();
                            (*o)->last_sign_in_at = ctx.now;
                            (*o)->updated_at = ctx.now;
                            if (auto p = w.console().put_operator(**o, false); !p) return p.error();
                            auto s = start_session(ctx, w, (*o)->id, session_token);
                            if (!s) return s.error();
                            op_id = (*o)->id;
                            op_name = (*o)->name;
                            return api_result<void>();
                        });
    if (!r) {
        audit(a, "", "", "console.link", "", ctx.remote_ip, static_cast<unsigned>(r.error().status), "refused");
        return r.error();
    }
    audit(a, op_id, op_name, "console.link", op_id, ctx.remote_ip, 303);
    ctx.set_cookies.push_back(cookie(a, session_token, absolute_timeout_ms / 1000));
    ctx.headers.emplace_back("Referrer-Policy", "no-referrer");
    reply out;
    out.status = http::status::see_other;
    out.location = "/console/";
    return out;
}

api_result<reply> sign_in(app& a, request_ctx& ctx) {
    if (!same_origin(a, ctx)) return make_error(code::console_csrf_invalid);  // no login CSRF
    auto const& body = ctx.body.as_object();
    auto str = [&](std::string_view k) -> std::string {
        auto const* v = body.if_contains(k);
        return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string{};
    };
    std::string name = str("name");
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string const password = str("password");
    std::string const otp = str("code");
    if (name.empty()) return param_error(code::form_param_missing, "name");
    if (password.empty()) return param_error(code::form_param_missing, "password");
    if (name.size() > 128 || password.size() > 1024) return param_error(code::form_param_max_length_exceeded, "name");

    auto op = txn::read(a, "console sign-in", [&](store::read_txn& t) { return t.console().operator_by_name(name); });
    if (!op) return op.error();
    if (!*op || (*op)->role == removed_role) {
        (void)crypto::verify_password(password, decoy_digest());
        audit(a, "", name, "console.sign_in", "", ctx.remote_ip, 401, "unknown operator");
        return make_error(code::operator_credentials_invalid);
    }
    if ((*op)->locked_until > ctx.now) {
        audit(a, (*op)->id, name, "console.sign_in", (*op)->id, ctx.remote_ip, 403, "locked");
        return make_error(code::operator_locked);
    }
    // The password (and the TOTP code) are checked outside any txn: this route runs on the hash pool.
    bool ok = false;
    if (!(*op)->password_digest.empty()) {
        auto v = crypto::verify_password(password, (*op)->password_digest);
        ok = v && *v;
    }
    std::optional<std::int64_t> step;
    if (ok && !(*op)->totp_secret.empty()) {
        auto key = crypto::base32_decode((*op)->totp_secret);
        step = key ? crypto::totp_verify(*key, otp, ctx.now / 1000, (*op)->totp_last_step) : std::nullopt;
        ok = step.has_value();
    }
    std::string session_token;
    store::console_session_record session;
    bool locked_now = false;
    auto r = txn::write(a, "console sign-in", txn::on_client_error::commit,
                        [&](store::write_txn& w) -> store::result<api_result<void>> {
                            auto cur = w.console().operator_by_id((*op)->id);
                            if (!cur) return cur.error();
                            if (!*cur) return api_result<void>(make_error(code::operator_credentials_invalid));
                            auto& o = **cur;
                            o.updated_at = ctx.now;
                            if (!ok || o.locked_until > ctx.now) {
                                // The failed try lands with its error: after max_failed_sign_ins the operator is
                                // locked.
                                if (++o.failed_attempts >= max_failed_sign_ins) {
                                    o.locked_until = ctx.now + lockout_ms;
                                    o.failed_attempts = 0;
                                    locked_now = true;
                                }
                                if (auto p = w.console().put_operator(o, false); !p) return p.error();
                                return api_result<void>(make_error(locked_now ? code::operator_locked
                                                                              : code::operator_credentials_invalid));
                            }
                            o.failed_attempts = 0;
                            o.locked_until = 0;
                            o.last_sign_in_at = ctx.now;
                            if (step) o.totp_last_step = *step;
                            if (auto p = w.console().put_operator(o, false); !p) return p.error();
                            auto s = start_session(ctx, w, o.id, session_token);
                            if (!s) return s.error();
                            session = std::move(*s);
                            *op = o;
                            return api_result<void>();
                        });
    if (!r) {
        audit(a, (*op)->id, name, "console.sign_in", (*op)->id, ctx.remote_ip, static_cast<unsigned>(r.error().status),
              locked_now ? "locked out" : "bad credentials");
        return r.error();
    }
    audit(a, (*op)->id, name, "console.sign_in", (*op)->id, ctx.remote_ip, 200);
    ctx.set_cookies.push_back(cookie(a, session_token, absolute_timeout_ms / 1000));
    return json_reply(session_json(**op, session.csrf, session.id));
}

api_result<reply> sign_out(app& a, request_ctx& ctx) {
    if (auto r = authorize(a, ctx, "/console/api/sign_out"); !r) return r.error();
    auto const digest = domain::secret_digest_hex(*ctx.cookies.find(cookie_name));
    auto r =
        txn::write(a, "console sign-out", txn::on_client_error::abort, [&](store::write_txn& w) -> store::result<void> {
            auto s = w.console().session(digest);
            if (!s) return s.error();
            if (!*s) return {};
            (*s)->ended_at = ctx.now;
            return w.console().put_session(**s);
        });
    if (!r) return r.error();
    ctx.set_cookies.push_back(cookie(a, "", 0));
    return json_reply({{"object", "console_session"}, {"id", ctx.console_session_id}, {"status", "ended"}});
}

api_result<reply> current_session(app& a, request_ctx& ctx) {
    if (auto r = authorize(a, ctx, "/console/api/session"); !r) return r.error();
    auto r = find_login(a, *ctx.cookies.find(cookie_name));
    if (!r) return r.error();
    return json_reply(session_json(r->op, r->session.csrf, r->session.id));
}

api_result<reply> list_audit(app& a, request_ctx& ctx) {
    if (auto r = authorize(a, ctx, "/console/api/audit"); !r) return r.error();
    auto limit = limit_param(ctx, 50, 500);
    if (!limit) return limit.error();
    std::string before;
    if (auto const* b = ctx.query.find("before")) before = *b;
    auto r = txn::read(a, "audit", [&](store::read_txn& t) { return t.console().audit(*limit, before); });
    if (!r) return r.error();
    json::array data;
    for (auto const& e : *r) data.push_back(audit_json(e));
    json::object o;
    o["data"] = std::move(data);
    return json_reply(o);
}

api_result<reply> get_stats(app& a, request_ctx& ctx) {
    if (auto r = authorize(a, ctx, "/console/api/stats"); !r) return r.error();
    std::string_view range = "day";
    if (auto const* r = ctx.query.find("range")) range = *r;
    char grain = 0;
    std::int64_t width = 0;
    std::size_t n = 0;
    if (range == "hour")
        grain = 'm', width = minute_ms, n = 60;
    else if (range == "day")
        grain = 'h', width = hour_ms, n = 24;
    else if (range == "month")
        grain = 'd', width = day_ms, n = 30;
    else
        return param_error(code::form_param_value_invalid, "range", "range must be hour, day or month.");
    std::int64_t const last = ctx.now - ctx.now % width;
    std::int64_t const from = last - static_cast<std::int64_t>(n - 1) * width;
    static constexpr std::string_view names[] = {"sign_ups",
                                                 "sign_ins.ok",
                                                 "sign_ins.failed",
                                                 "active_sessions",
                                                 "sign_ins.ok.password",
                                                 "sign_ins.ok.email_code",
                                                 "sign_ins.ok.phone_code",
                                                 "sign_ins.ok.email_link",
                                                 "sign_ins.ok.oauth",
                                                 "sign_ins.ok.saml",
                                                 "sign_ins.ok.passkey",
                                                 "sign_ins.ok.ticket",
                                                 "sign_ins.ok.web3",
                                                 "sign_ins.ok.totp",
                                                 "sign_ins.ok.backup_code",
                                                 "sign_ins.ok.reset_password_email_code",
                                                 "sign_ins.ok.other"};
    auto r = txn::read(a, "console stats", [&](store::read_txn& t) -> store::result<json::object> {
        json::object series;
        for (auto name : names) {
            auto c = t.console().counters(std::string(name) + "@" + grain, from, last + width);
            if (!c) return c.error();
            if (c->empty() && name.starts_with("sign_ins.ok.")) continue;  // methods nobody used
            json::array values(n, json::value(0));
            for (auto const& [bucket, value] : *c) values[static_cast<std::size_t>((bucket - from) / width)] = value;
            series[name] = std::move(values);
        }
        return series;
    });
    if (!r) return r.error();
    json::array buckets;
    for (std::size_t i = 0; i < n; ++i) buckets.emplace_back(from + static_cast<std::int64_t>(i) * width);
    json::object o;
    o["object"] = "console_stats";
    o["range"] = range;
    o["bucket_ms"] = width;
    o["buckets"] = std::move(buckets);
    o["series"] = std::move(*r);
    return json_reply(o);
}

}  // namespace latchkey::server::api::console
