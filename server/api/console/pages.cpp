// The console's remaining pages (issue 23): the instance's settings in force (never a secret), its signing keys
// and webhook endpoints; operator management (admins only); and the latchkey BAPI endpoints for what Clerk's
// Backend API lacks — a JWT template's claims rendered for a chosen user, the webhook deliveries in the queue and
// their retry, and a download of the instance's users in the import formats. The /v1 routes take the secret key
// or a console session (dispatch's authenticate_console); the /console/api routes a console session only.
#include "crypto/random.hpp"
#include "crypto/totp.hpp"
#include "server/api/backend/common.hpp"
#include "server/api/console/console.hpp"
#include "server/api/console/handlers.hpp"
#include "server/api/templates.hpp"
#include "server/api/txn.hpp"
#include "server/delivery/history.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace latchkey::server::api::console {

namespace json = boost::json;
using backend::body_string;
using backend::json_reply;
using backend::not_found;

namespace {

json::array strings(std::vector<std::string> const& v) {
    json::array a;
    for (auto const& s : v) a.emplace_back(s);
    return a;
}

/// A URL without its userinfo (a PostgreSQL URL may carry a password).
std::string without_credentials(std::string const& url) {
    auto const scheme = url.find("://");
    auto const at = url.rfind('@');
    if (scheme == std::string::npos || at == std::string::npos || at < scheme) return url;
    return url.substr(0, scheme + 3) + "***@" + url.substr(at + 1);
}

json::object attribute_json(conf::attribute const& a) {
    return {{"enabled", a.enabled},
            {"required", a.required},
            {"used_for_first_factor", a.used_for_first_factor},
            {"verify_at_sign_up", a.verify_at_sign_up}};
}

/// The settings in force, by name: what an operator asks about when users report a problem. Listed one by one
/// (a whitelist): secrets (secret keys, TLS and SAML keys, webhook and provider secrets, SMTP and Twilio
/// credentials, a database password) are never part of it.
json::object settings_json(conf::config const& c) {
    json::array providers, saml;
    for (auto const& p : c.oauth_providers) providers.emplace_back(p.strategy);
    for (auto const& p : c.saml_connections) saml.emplace_back(p.name);
    std::string const store =
        c.postgres_url.empty() ? std::string("lmdb") : "postgresql " + without_credentials(c.postgres_url);
    return {{"instance_type", c.instance_type},
            {"application_name", c.application_name},
            {"listen", c.listen},
            {"backend_listen", c.backend_listen},
            {"frontend_api", c.frontend_api},
            {"app_domain", c.app_domain},
            {"tls", !c.tls_cert.empty()},
            {"durable", c.durable},
            {"store", store},
            {"geoip", !c.geoip_database.empty()},
            {"sign_up_mode", c.sign_up_mode},
            {"first_factors", strings(c.first_factors)},
            {"second_factors", strings(c.second_factors)},
            {"second_factor_required", c.second_factor_required},
            {"reverification_minutes", c.reverification_minutes},
            {"email_address", attribute_json(c.email_address)},
            {"phone_number", attribute_json(c.phone_number)},
            {"username", attribute_json(c.username)},
            {"password", attribute_json(c.password)},
            {"single_session_mode", c.single_session_mode},
            {"session_lifetime_s", c.session_lifetime.count()},
            {"inactivity_timeout_s", c.inactivity_timeout.count()},
            {"token_lifetime_s", c.token_lifetime.count()},
            {"allowed_redirect_origins", strings(c.allowed_redirect_origins)},
            {"organizations", c.organizations.enabled},
            {"email_delivery", c.delivery.email.mode},
            {"sms_delivery", c.delivery.sms.mode},
            {"oauth_providers", std::move(providers)},
            {"saml_connections", std::move(saml)}};
}

/// A queued webhook delivery as the history shows a delivered one: the payload's fields a person reads, never the
/// envelope itself (user data).
json::object delivery_json(store::job_record const& j, std::int64_t now) {
    auto e = delivery::webhook_entry(j, j.state == "dead"          ? "failed"
                                        : j.leased                 ? "sending"
                                        : j.attempts == 0          ? "queued"
                                        : j.next_attempt_at <= now ? "queued"
                                                                   : "retrying");
    return delivery::entry_json(e, j.next_attempt_at);
}

bool valid_operator_name(std::string_view n) {
    return !n.empty() && n.size() <= 64 && std::all_of(n.begin(), n.end(), [](unsigned char c) {
        return std::islower(c) || std::isdigit(c) || c == '.' || c == '_' || c == '-' || c == '@';
    });
}

/// The admins other than `except`.
store::result<std::size_t> other_admins(store::write_txn& w, std::string_view except) {
    auto all = w.console().operators();
    if (!all) return all.error();
    return static_cast<std::size_t>(std::count_if(all->begin(), all->end(), [&](store::operator_record const& o) {
        return o.role == "admin" && o.id != except;
    }));
}

/// The operator named by the path for a change by the signed-in admin: never the admin themself (an admin
/// cannot lock themself out), never the last admin.
store::result<api_result<store::operator_record>> target_operator(store::write_txn& w, request_ctx const& ctx) {
    auto const id = ctx.params.get("operator_id");
    auto o = w.console().operator_by_id(id);
    if (!o) return o.error();
    if (!*o || (*o)->role == removed_role) return api_result<store::operator_record>(not_found());
    if ((*o)->id == ctx.console_operator_id)
        return api_result<store::operator_record>(param_error(code::form_param_value_invalid, "operator_id",
                                                              "An operator cannot change or remove themself."));
    return api_result<store::operator_record>(std::move(**o));
}

}  // namespace

std::string new_totp_secret() {
    std::string raw(crypto::totp_secret_bytes, '\0');
    crypto::random_bytes({reinterpret_cast<unsigned char*>(raw.data()), raw.size()});
    return crypto::base32_encode(raw);
}

json::object operator_with_secret(store::operator_record const& o, std::string const& secret) {
    json::object line = operator_json(o);
    if (!secret.empty()) {
        // Shown once, for the operator's authenticator app; the store keeps it for verification only.
        line["totp_secret"] = secret;
        line["otpauth_uri"] = crypto::totp_uri("latchkey console", o.name, secret);
    }
    return line;
}

api_result<reply> get_instance_page(app& a, request_ctx& ctx) {
    if (auto r = authorize(a, ctx, "/console/api/instance"); !r) return r.error();
    json::object o;
    o["object"] = "console_instance";
    o["id"] = a.inst.id;
    o["environment_type"] = a.inst.production ? "production" : "development";
    o["frontend_api"] = a.inst.frontend_api;
    o["publishable_key"] = a.inst.publishable_key;
    o["issuer"] = a.inst.issuer;
    o["allowed_origins"] = strings(a.cfg.allowed_origins);
    o["settings"] = settings_json(a.cfg);
    o["signing_keys"] = signing_keys_json(a.keys.current());
    json::array hooks;
    for (auto const& h : a.cfg.webhooks)
        hooks.push_back(json::object{{"url", h.url}, {"events", strings(h.events)}, {"secrets", h.secrets.size()}});
    o["webhook_endpoints"] = std::move(hooks);
    return json_reply(o);
}

api_result<reply> list_operators(app& a, request_ctx& ctx) {
    if (auto r = authorize(a, ctx, "/console/api/operators"); !r) return r.error();
    auto all = txn::read(a, "operators", [](store::read_txn& t) { return t.console().operators(); });
    if (!all) return all.error();
    json::array data;
    for (auto const& o : *all)
        if (o.role != removed_role) data.push_back(operator_json(o));
    auto const n = data.size();
    return json_reply(json::object{{"data", std::move(data)}, {"total_count", n}});
}

api_result<reply> create_operator(app& a, request_ctx& ctx) {
    if (auto r = authorize(a, ctx, "/console/api/operators"); !r) return r.error();
    auto name = body_string(ctx, "name", 64);
    if (!name) return name.error();
    auto role = body_string(ctx, "role", 16);
    if (!role) return role.error();
    auto password = body_string(ctx, "password", 1024);
    if (!password) return password.error();
    auto totp = backend::body_bool(ctx, "totp");
    if (!totp) return totp.error();
    std::string n = name->value_or("");
    std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (n.empty()) return param_error(code::form_param_missing, "name");
    if (!valid_operator_name(n))
        return param_error(code::form_param_format_invalid, "name",
                           "An operator name is 1 to 64 lowercase letters, digits and . _ - @.");
    if (!role->has_value()) return param_error(code::form_param_missing, "role");
    if (!valid_role(**role))
        return param_error(code::form_param_value_invalid, "role", "role must be admin, support or viewer.");
    std::string const pw = password->value_or("");
    if (!pw.empty() && pw.size() < 12)
        return param_error(code::form_password_length_too_short, "password",
                           "An operator password needs 12 characters or more.");
    std::string const secret = totp->value_or(false) ? new_totp_secret() : std::string{};
    // This route runs on the hash pool: the password is hashed here, then written in one short txn.
    auto o = add_operator(a.db, n, **role, pw, secret, ctx.now);
    if (!o) return store_error(o.error(), "create operator", "name");
    reply r = json_reply(operator_with_secret(*o, secret));
    r.status = http::status::ok;
    return r;
}

api_result<reply> update_operator(app& a, request_ctx& ctx) {
    if (auto r = authorize(a, ctx, "/console/api/operators/{operator_id}"); !r) return r.error();
    auto role = body_string(ctx, "role", 16);
    if (!role) return role.error();
    if (!role->has_value()) return param_error(code::form_param_missing, "role");
    if (!valid_role(**role))
        return param_error(code::form_param_value_invalid, "role", "role must be admin, support or viewer.");
    auto r =
        txn::write(a, "update operator", txn::on_client_error::abort,
                   [&](store::write_txn& w) -> store::result<api_result<store::operator_record>> {
                       auto o = target_operator(w, ctx);
                       if (!o || !*o) return o;
                       auto& op = **o;
                       if (op.role == "admin" && **role != "admin") {
                           auto others = other_admins(w, op.id);
                           if (!others) return others.error();
                           if (*others == 0)
                               return api_result<store::operator_record>(param_error(
                                   code::form_param_value_invalid, "role", "The last admin keeps the admin role."));
                       }
                       op.role = **role;
                       op.updated_at = ctx.now;
                       if (auto p = w.console().put_operator(op, false); !p) return p.error();
                       return o;
                   });
    if (!r) return r.error();
    return json_reply(operator_json(*r));
}

api_result<reply> reset_operator_totp(app& a, request_ctx& ctx) {
    if (auto r = authorize(a, ctx, "/console/api/operators/{operator_id}/reset_totp"); !r) return r.error();
    std::string const secret = new_totp_secret();
    auto r = txn::write(a, "reset operator totp", txn::on_client_error::abort,
                        [&](store::write_txn& w) -> store::result<api_result<store::operator_record>> {
                            auto o = target_operator(w, ctx);
                            if (!o || !*o) return o;
                            auto& op = **o;
                            op.totp_secret = secret;  // the old authenticator's codes stop working at once
                            op.totp_last_step = 0;
                            op.updated_at = ctx.now;
                            if (auto p = w.console().put_operator(op, false); !p) return p.error();
                            return o;
                        });
    if (!r) return r.error();
    return json_reply(operator_with_secret(*r, secret));
}

api_result<reply> delete_operator(app& a, request_ctx& ctx) {
    if (auto r = authorize(a, ctx, "/console/api/operators/{operator_id}"); !r) return r.error();
    auto r =
        txn::write(a, "delete operator", txn::on_client_error::abort,
                   [&](store::write_txn& w) -> store::result<api_result<store::operator_record>> {
                       auto o = target_operator(w, ctx);
                       if (!o || !*o) return o;
                       if ((*o)->role == "admin") {
                           auto others = other_admins(w, (*o)->id);
                           if (!others) return others.error();
                           if (*others == 0)
                               return api_result<store::operator_record>(param_error(
                                   code::form_param_value_invalid, "operator_id", "The last admin cannot be removed."));
                       }
                       // A tombstone: the audit log keeps naming them; their sessions and links no longer
                       // authorise (authorize, open_link and sign_in refuse a removed operator); no credential
                       // is kept.
                       auto& op = **o;
                       op.role = removed_role;
                       op.password_digest.clear();
                       op.totp_secret.clear();
                       op.updated_at = ctx.now;
                       if (auto p = w.console().put_operator(op, false); !p) return p.error();
                       return o;
                   });
    if (!r) return r.error();
    return backend::deleted_reply("operator", r->id);
}

// ---- latchkey BAPI endpoints (secret key or console session) ----

api_result<reply> preview_jwt_template(app& a, request_ctx& ctx) {
    auto const* user_id = ctx.query.find("user_id");
    if (user_id == nullptr || user_id->empty()) return param_error(code::form_param_missing, "user_id");
    auto r = txn::read(a, "preview template", [&](store::read_txn& t) -> store::result<api_result<json::object>> {
        auto tpl = t.jwt_templates().get(ctx.params.get("template_id"));
        if (!tpl) return tpl.error();
        if (!*tpl) return api_result<json::object>(not_found());
        auto u = t.users().get(*user_id);
        if (!u) return u.error();
        if (!*u) return api_result<json::object>(param_error(code::resource_not_found, "user_id"));
        // The user's newest live session when there is one (its shortcodes then show real values), else a
        // session that exists only for the preview.
        auto sessions = t.sessions().of_user(*user_id);
        if (!sessions) return sessions.error();
        store::session_record s;
        s.id = "sess_preview";
        s.user_id = (*u)->id;
        s.status = "active";
        s.created_at = s.updated_at = s.last_active_at = ctx.now;
        bool real = false;
        for (auto const& x : *sessions)
            if (backend::effective_status(x, ctx.now) == "active") {
                s = x;
                real = true;
                break;
            }
        json::object o;
        o["object"] = "jwt_template_preview";
        o["template_id"] = (*tpl)->id;
        o["template_name"] = (*tpl)->name;
        o["user_id"] = (*u)->id;
        o["session_id"] = real ? json::value(s.id) : json::value(nullptr);
        o["claims"] = render_template_claims(a, **tpl, **u, s);
        return api_result<json::object>(std::move(o));
    });
    if (!r) return r.error();
    return json_reply(*r);
}

api_result<reply> list_webhook_deliveries(app& a, request_ctx& ctx) {
    auto limit = limit_param(ctx, 50, 500);
    if (!limit) return limit.error();
    std::string_view status, url;
    if (auto const* st = ctx.query.find("status")) status = *st;
    if (auto const* u = ctx.query.find("url")) url = *u;
    if (!status.empty() && status != "queued" && status != "retrying" && status != "sending" && status != "failed" &&
        status != "delivered")
        return param_error(code::form_param_value_invalid, "status",
                           "status must be queued, retrying, sending, failed or delivered.");
    json::array data;
    auto wanted = [&](json::object const& d) {
        return (status.empty() || d.at("status").as_string() == status) &&
               (url.empty() || d.at("url").as_string() == url);
    };
    if (a.jobs != nullptr && status != "delivered") {
        auto all = txn::read(a, "webhook deliveries", [&](store::read_txn& t) { return a.jobs->list(t, 100000); });
        if (!all) return all.error();
        // Newest first (the queue lists oldest first).
        for (auto it = all->rbegin(); it != all->rend() && data.size() < *limit; ++it) {
            if (it->kind != "webhook") continue;
            auto d = delivery_json(*it, ctx.now);
            if (wanted(d)) data.push_back(std::move(d));
        }
    }
    // Then the recent successes, which left the queue (server/delivery/history.hpp), newest first.
    if (a.webhook_history != nullptr && (status.empty() || status == "delivered") && data.size() < *limit)
        for (auto const& e : a.webhook_history->list(url, {}, *limit - data.size()))
            data.push_back(delivery::entry_json(e));
    auto const n = data.size();
    return json_reply(json::object{{"data", std::move(data)}, {"total_count", n}});
}

api_result<reply> retry_webhook_delivery(app& a, request_ctx& ctx) {
    if (a.jobs == nullptr) return not_found();
    auto const id = ctx.params.get("delivery_id");
    auto r = txn::write(a, "retry delivery", txn::on_client_error::abort,
                        [&](store::write_txn& w) -> store::result<api_result<store::job_record>> {
                            auto j = w.jobs().get(id);
                            if (!j) return j.error();
                            if (!*j || (*j)->kind != "webhook") return api_result<store::job_record>(not_found());
                            auto& job = **j;
                            if (job.leased)  // a worker is sending it right now
                                return api_result<store::job_record>(
                                    param_error(code::form_param_value_invalid, "delivery_id",
                                                "This delivery is being sent; retry once the attempt is over."));
                            job.state = "pending";
                            job.next_attempt_at = ctx.now;
                            if (auto p = w.jobs().put(job, false); !p) return p.error();
                            if (a.wake_delivery) w.after_commit(a.wake_delivery);
                            return api_result<store::job_record>(std::move(job));
                        });
    if (!r) return r.error();
    return json_reply(delivery_json(*r, ctx.now));
}

api_result<reply> export_users(app& a, request_ctx& ctx) {
    std::string_view format = "clerk-csv";
    if (auto const* f = ctx.query.find("format")) format = *f;
    if (format != "clerk-csv" && format != "clerk-json")
        return param_error(code::form_param_value_invalid, "format", "format must be clerk-csv or clerk-json.");
    bool const csv = format == "clerk-csv";
    // `latchkey export`'s formats. Never with password digests or TOTP secrets: those stay with
    // `latchkey export --include-secrets` on the server's own machine.
    std::string out;
    if (!a.export_users) return make_error(code::internal_clerk_error);
    auto written = a.export_users(csv, [&](std::string_view text) { out.append(text); });
    if (!written) return store_error(written.error(), "export users");
    ctx.headers.emplace_back("Content-Disposition",
                             csv ? "attachment; filename=\"users.csv\"" : "attachment; filename=\"users.json\"");
    ctx.headers.emplace_back("Cache-Control", "no-store");
    reply r;
    r.body = std::move(out);
    r.content_type = csv ? "text/csv; charset=utf-8" : "application/json";
    return r;
}

}  // namespace latchkey::server::api::console
