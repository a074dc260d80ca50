#include "server/api/dispatch.hpp"

#include "server/metrics.hpp"

#include "crypto/ossl.hpp"
#include "crypto/random.hpp"
#include "server/api/console/console.hpp"
#include "server/api/console/counters.hpp"
#include "server/api/frontend/identity.hpp"
#include "server/api/site.hpp"
#include "server/api/views.hpp"
#include "server/http/guard.hpp"
#include "server/http/multipart.hpp"
#include "server/log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>

namespace latchkey::server::api {

namespace json = boost::json;

namespace {

std::string next_request_id() {
    // Unique per thread (random prefix) and counted per thread: a shared atomic counter bounced its cache
    // line between the I/O threads on every request.
    thread_local std::string const prefix = "req_" + crypto::random_token(6);
    thread_local std::uint64_t counter = 0;
    auto n = counter++;
    std::string id;
    id.reserve(prefix.size() + 12);
    id += prefix;
    char hex[12];
    for (int i = 11; i >= 0; --i, n >>= 4) hex[i] = "0123456789abcdef"[n & 0xf];
    id.append(hex, sizeof hex);
    return id;
}

bool is_local_origin(std::string_view o) {
    for (std::string_view p : {"http://localhost", "http://127.0.0.1", "https://localhost", "https://127.0.0.1"}) {
        if (o.starts_with(p)) {
            auto rest = o.substr(p.size());
            if (rest.empty() || rest.front() == ':') return true;
        }
    }
    return false;
}

std::string origin_of(std::string_view url) {
    auto scheme = url.find("://");
    if (scheme == std::string_view::npos) return {};
    auto slash = url.find('/', scheme + 3);
    return std::string(url.substr(0, slash));
}

/// Checks every string in a JSON document against the field limit.
bool strings_within(json::value const& v, std::size_t max) {
    switch (v.kind()) {
        case json::kind::string:
            return v.get_string().size() <= max;
        case json::kind::array:
            for (auto const& e : v.get_array())
                if (!strings_within(e, max)) return false;
            return true;
        case json::kind::object:
            for (auto const& kv : v.get_object())
                if (kv.key().size() > max || !strings_within(kv.value(), max)) return false;
            return true;
        default:
            return true;
    }
}

void add_cors(app const& a, request_ctx const& ctx, response& res) {
    if (ctx.origin.empty() || !origin_allowed(a, ctx.origin)) return;
    res.set(http::field::access_control_allow_origin, ctx.origin);
    res.set(http::field::access_control_allow_credentials, "true");
    res.set(http::field::access_control_expose_headers, "Clerk-Db-Jwt, x-country, retry-after, authorization");
    res.set(http::field::vary, "Origin");
}

}  // namespace

bool on_site(app const& a, std::string_view origin) {
    if (a.inst.site_domain.empty()) return false;
    auto const o = site::parse_origin(origin);
    return o && o->scheme == a.inst.fapi_scheme && o->port == a.inst.fapi_port &&
           site::within(o->host, a.inst.site_domain);
}

bool origin_allowed(app const& a, std::string_view origin) {
    for (auto const& o : a.cfg.allowed_origins)
        if (o == origin) return true;
    if (origin == origin_of(a.inst.frontend_api)) return true;
    // The app on the instance's own site (clerk.example.com serving example.com, app.example.com), as Clerk
    // accepts it without a list: same scheme and port as the FAPI, the site domain or a subdomain of it.
    if (on_site(a, origin)) return true;
    // Development instances with no explicit list accept local origins (as Clerk's dev instances accept localhost).
    return a.cfg.allowed_origins.empty() && !a.inst.production && is_local_origin(origin);
}

std::optional<std::string> allowed_redirect(app const& a, std::string_view url) {
    auto t = parse_redirect(url);
    if (!t) return std::nullopt;
    bool ok = origin_allowed(a, t->origin);
    if (!ok) {
        if (auto own = parse_redirect(a.inst.frontend_api)) ok = own->origin == t->origin;
    }
    for (auto const& o : a.cfg.allowed_redirect_origins) ok = ok || o == t->origin;
    if (!ok) return std::nullopt;
    return std::move(t->url);
}

namespace {
/// For offload_writes: a request that may commit a write (token mints, POST .../tokens[/{template}], only read).
bool may_write(request const& req) {
    auto const m = req.method();
    if (m == http::verb::get || m == http::verb::head || m == http::verb::options) return false;
    std::string_view path = req.target();
    path = path.substr(0, path.find('?'));
    if (m == http::verb::post && (path.ends_with("/tokens") || path.substr(0, path.rfind('/')).ends_with("/tokens")))
        return !path.starts_with("/v1/client/sessions/") && !path.starts_with("/v1/sessions/");
    return true;
}
}  // namespace

api_service::api_service(app& a, route_table const& routes, api_kind kind, net::any_io_executor hash_pool)
    : app_(a), routes_(routes), kind_(kind), hash_pool_(std::move(hash_pool)),
      default_image_url_(a.inst.frontend_api + "/v1/avatar/default") {
    if (a.metrics != nullptr) {
        std::string_view const api = kind == api_kind::frontend ? "fapi" : "bapi";
        for (std::size_t i = 0; i < routes.size(); ++i) {
            auto const slot = a.metrics->add_route(api, http::to_string(routes.method(i)), routes.pattern(i));
            if (i == 0) metric_base_ = slot;
        }
        auto const unmatched = a.metrics->add_route(api, "-", "unmatched");
        if (routes.size() == 0) metric_base_ = unmatched;
    }
}

namespace {
/// The table's code for a failure the transport answers by itself.
code transport_code(transport_failure f) noexcept {
    switch (f) {
        case transport_failure::malformed_request:
            return code::malformed_request;
        case transport_failure::request_body_too_large:
            return code::request_body_too_large;
        case transport_failure::request_header_too_large:
            return code::request_header_too_large;
        case transport_failure::request_timeout:
            return code::request_timeout;
        case transport_failure::too_many_connections:
            return code::too_many_connections;
        case transport_failure::unsafe_response:
            break;
    }
    return code::internal_clerk_error;
}
}  // namespace

void api_service::transport_error(response& res, transport_failure failure, std::string_view detail) {
    api_error e = make_error(transport_code(failure));
    if (!detail.empty()) e.long_message = std::string(detail);
    auto const status = e.status;
    res.result(status);
    res.set(http::field::content_type, "application/json");
    res.set(http::field::server, "latchkey");
    res.body() = render_errors(e, next_request_id());
    log::access(kind_ == api_kind::frontend ? "fapi" : "bapi", "-", "-", "-", static_cast<unsigned>(status),
                code_name(e.code), 0, res.body().size(), "");
}

api_result<reply> api_service::invoke(route_entry const& route, request_ctx& ctx) {
    views::default_image_scope const image(default_image_url_);
    try {
        return route.fn(app_, ctx);
    } catch (std::exception const& ex) {
        log::error("handler_exception", {{"request_id", ctx.request_id}, {"path", ctx.path}, {"what", ex.what()}});
    } catch (...) {
        log::error("handler_exception", {{"request_id", ctx.request_id}, {"path", ctx.path}});
    }
    return make_error(code::internal_clerk_error);
}

// ---- handle: the stages of one request ----
//
// A request goes through parse -> route -> authenticate -> body -> identify -> CSRF, then run and finish. Each
// stage either lets the request go on (returns nullopt) or answers it now (an error, or the preflight's 204);
// after the first answer no later stage runs. An authentication kind is one stage that acts only on routes of its
// auth_policy: a new kind (passkeys, OAuth bearer tokens, SAML ACS) is one more entry in `stages` below, placed
// where what it reads is ready (headers: before `body`; the parsed body or the FAPI client: after it).

namespace {

/// What the stages share: the request, its context and what routing found.
struct stage_state {
    app& a;
    route_table const& routes;
    api_kind kind;
    request const& req;
    request_ctx& ctx;
    route_entry const* route = nullptr;
    std::size_t route_index = 0;
};

/// nullopt: go on with the next stage; a value: the request's answer (no later stage runs).
using stage_outcome = std::optional<api_result<reply>>;

/// Target (path, query), the proxied client address, the `_method` override, the FAPI's CORS preflight.
stage_outcome parse_stage(stage_state& s) {
    auto& ctx = s.ctx;
    std::string_view target = s.req.target();
    auto qpos = target.find('?');
    std::string_view raw_path = target.substr(0, qpos);
    std::string_view raw_query = qpos == std::string_view::npos ? std::string_view{} : target.substr(qpos + 1);
    if (s.kind == api_kind::frontend && !s.a.inst.fapi_path_prefix.empty() &&
        raw_path.starts_with(s.a.inst.fapi_path_prefix))
        raw_path.remove_prefix(s.a.inst.fapi_path_prefix.size());
    ctx.path = std::string(raw_path);
    if (parse_urlencoded(raw_query, ctx.query, s.a.cfg.max_field_bytes) != parse_status::ok)
        return param_error(code::form_param_format_invalid, "query", "The query string is malformed.");
    // Proxied requests (Clerk's proxy guide): trust X-Forwarded-For only with a valid Clerk-Secret-Key.
    if (auto xff = s.req.find("X-Forwarded-For"); xff != s.req.end()) {
        auto sk = s.req.find("Clerk-Secret-Key");
        if (sk != s.req.end()) {
            for (auto const& k : s.a.inst.secret_keys)
                if (crypto::equal_ct(k, sk->value())) {
                    std::string_view v = xff->value();
                    auto comma = v.find(',');
                    ctx.remote_ip = std::string(v.substr(0, comma));
                    break;
                }
        }
    }
    ctx.method = s.req.method();
    if (ctx.method == http::verb::post) {
        if (auto const* m = ctx.query.find("_method")) {
            if (*m == "PATCH")
                ctx.method = http::verb::patch;
            else if (*m == "PUT")
                ctx.method = http::verb::put;
            else if (*m == "DELETE")
                ctx.method = http::verb::delete_;
        }
    }
    if (s.kind == api_kind::frontend && ctx.method == http::verb::options)
        return reply{http::status::no_content, {}, {}};
    return std::nullopt;
}

/// THE route table, then the cookies (only a routed request needs them).
stage_outcome route_stage(stage_state& s) {
    auto& ctx = s.ctx;
    auto m = s.routes.find(ctx.method == http::verb::head ? http::verb::get : ctx.method, ctx.path, ctx.params);
    if (m.result == route_table::outcome::not_found) return make_error(code::resource_not_found);
    if (m.result == route_table::outcome::method_not_allowed) {
        ctx.headers.emplace_back("Allow", m.allow);
        return make_error(code::method_not_allowed);
    }
    s.route = m.payload;
    s.route_index = m.index;
    for (auto it = s.req.find(http::field::cookie); it != s.req.end() && it->name() == http::field::cookie; ++it)
        parse_cookies(it->value(), ctx.cookies);
    return std::nullopt;
}

/// auth_policy::secret_key (the BAPI): `Authorization: Bearer sk_...`, compared in constant time against every
/// key, before the body is parsed.
stage_outcome authenticate_secret_key_stage(stage_state& s) {
    if (s.route->auth != auth_policy::secret_key || console::is_console_request(s.ctx)) return std::nullopt;
    auto it = s.req.find(http::field::authorization);
    if (it == s.req.end() || it->value().empty()) return make_error(code::authorization_header_missing);
    std::string_view v = it->value();
    if (v.starts_with("Bearer ")) v.remove_prefix(7);
    bool ok = false;
    for (auto const& k : s.a.inst.secret_keys) ok = crypto::equal_ct(k, v) || ok;
    if (!ok) return make_error(code::clerk_key_invalid);
    return std::nullopt;
}

/// The admin console (issue 23): on a secret-key route, its session cookie in place of the secret key, with its
/// role's rights and, on a write, its CSRF token and the listener's own Origin.
stage_outcome authenticate_console_stage(stage_state& s) {
    if (s.route->auth != auth_policy::secret_key || !console::is_console_request(s.ctx)) return std::nullopt;
    if (auto c = console::authorize(s.a, s.ctx, s.routes.pattern(s.route_index)); !c) return c.error();
    return std::nullopt;
}

/// A JSON object into ctx.body (and, on the FAPI, flattened into ctx.form).
stage_outcome json_body(stage_state& s, std::string_view body) {
    auto& ctx = s.ctx;
    json::parse_options opt;
    opt.max_depth = 32;
    boost::system::error_code ec;
    json::value v = json::parse(body, ec, {}, opt);
    // The BAPI's bulk endpoints (".../bulk", e.g. POST /v1/waitlist_entries/bulk) take a JSON array.
    bool const bulk = s.kind == api_kind::backend && s.routes.pattern(s.route_index).ends_with("/bulk");
    if (ec || !(v.is_object() || (bulk && v.is_array()))) return make_error(code::request_body_invalid);
    if (!strings_within(v, s.a.cfg.max_field_bytes))
        return param_error(code::form_param_max_length_exceeded, "body", "A field in the request body is too long.");
    if (s.kind == api_kind::frontend) {
        for (auto const& kv : v.get_object()) {
            auto const& val = kv.value();
            if (val.is_string())
                ctx.form.add(std::string(kv.key()), std::string(val.get_string()));
            else if (val.is_array()) {
                for (auto const& e : val.get_array())
                    ctx.form.add(std::string(kv.key()),
                                 e.is_string() ? std::string(e.get_string()) : json::serialize(e));
            } else if (!val.is_null())
                ctx.form.add(std::string(kv.key()), json::serialize(val));
            else
                ctx.form.add(std::string(kv.key()), "");
        }
    }
    ctx.body = std::move(v);
    return std::nullopt;
}

/// An urlencoded form (or a body without a Content-Type) into ctx.form (the BAPI: also ctx.body).
stage_outcome form_body(stage_state& s, std::string_view body) {
    auto& ctx = s.ctx;
    // A SAML response (issue 15) is posted as one large base64 field.
    auto const field_limit = ctx.path.starts_with("/v1/saml/acs/")
                                 ? std::max<std::size_t>(s.a.cfg.max_field_bytes, std::size_t{512} * 1024)
                                 : std::size_t{s.a.cfg.max_field_bytes};
    auto st = parse_urlencoded(body, ctx.form, field_limit);
    if (st == parse_status::field_too_large)
        return param_error(code::form_param_max_length_exceeded, "body", "A form field is too long.");
    if (st != parse_status::ok) return make_error(code::request_body_invalid);
    if (s.kind == api_kind::backend) {
        json::object o;
        for (auto const& [k, v] : ctx.form.items()) o[k] = v;
        ctx.body = std::move(o);
    }
    return std::nullopt;
}

/// Uploads (issue 14): the handler reads the file parts itself (server/api/images); the text fields join the
/// form as urlencoded ones would.
stage_outcome multipart_body(stage_state& s, std::string_view ct, std::string_view body) {
    auto& ctx = s.ctx;
    std::vector<multipart_part> parts;
    if (parse_multipart(ct, body, parts) != multipart_status::ok) return make_error(code::request_body_invalid);
    json::object fields;
    for (auto const& p : parts) {
        if (p.has_filename) continue;
        if (p.name.size() > s.a.cfg.max_field_bytes || p.data.size() > s.a.cfg.max_field_bytes)
            return param_error(code::form_param_max_length_exceeded, "body", "A form field is too long.");
        if (!valid_utf8(p.name) || !valid_utf8(p.data)) return make_error(code::request_body_invalid);
        if (p.name == "file") continue;  // a file sent without a filename: for the handler
        ctx.form.add(std::string(p.name), std::string(p.data));
        fields[p.name] = p.data;
    }
    if (s.kind == api_kind::backend) ctx.body = std::move(fields);
    return std::nullopt;
}

/// The body by its Content-Type; the BAPI's handlers always see an object (empty without a body).
stage_outcome body_stage(stage_state& s) {
    std::string_view body = s.req.body();
    stage_outcome out;
    if (!body.empty()) {
        std::string_view ct;
        if (auto it = s.req.find(http::field::content_type); it != s.req.end()) ct = it->value();
        if (ct.starts_with("application/json"))
            out = json_body(s, body);
        else if (ct.starts_with("application/x-www-form-urlencoded") || ct.empty())
            out = form_body(s, body);
        else if (beast::iequals(ct.substr(0, 19), "multipart/form-data"))
            out = multipart_body(s, ct, body);
        else if (!ct.starts_with("application/octet-stream"))  // a raw upload (issue 14): for the handler
            out = make_error(code::unsupported_content_type);
    }
    if (out) return out;
    if (s.kind == api_kind::backend && s.ctx.body.is_null()) s.ctx.body = json::object{};
    return std::nullopt;
}

/// auth_policy::fapi: the client, from the dev browser, the Authorization header or the __client cookie.
stage_outcome identify_client_stage(stage_state& s) {
    if (s.route->auth != auth_policy::fapi) return std::nullopt;
    if (auto r = frontend::resolve_identity(s.a, s.ctx); !r) return api_result<reply>(r.error());
    return std::nullopt;
}

/// CSRF (ASVS V4.2.2): a state-changing request authenticated by the __client cookie must come from an allowed
/// origin: judged by Origin, else by the Referer's origin, else by Sec-Fetch-Site.
stage_outcome csrf_stage(stage_state& s) {
    auto const& ctx = s.ctx;
    if (!ctx.cookie_auth || ctx.method == http::verb::get || ctx.method == http::verb::head) return std::nullopt;
    bool cross = false;
    if (!ctx.origin.empty()) {
        cross = !origin_allowed(s.a, ctx.origin);
    } else if (auto ref = s.req.find(http::field::referer); ref != s.req.end()) {
        auto t = parse_redirect(ref->value());
        cross = !t || !origin_allowed(s.a, t->origin);
    } else if (auto sf = s.req.find("Sec-Fetch-Site"); sf != s.req.end()) {
        cross = sf->value() == "cross-site";
    }
    if (cross) return make_error(code::origin_invalid);
    return std::nullopt;
}

struct stage {
    std::string_view name;
    stage_outcome (*run)(stage_state&);
};

/// THE order of the stages before the handler runs.
constexpr stage stages[] = {
    {"parse", parse_stage},
    {"route", route_stage},
    {"authenticate_console", authenticate_console_stage},
    {"authenticate_secret_key", authenticate_secret_key_stage},
    {"body", body_stage},
    {"identify_client", identify_client_stage},
    {"csrf", csrf_stage},
};

}  // namespace

net::awaitable<void> api_service::handle(request& req, response& res, connection_info const& ci,
                                         std::string_view* static_body) {
    auto const t0 = std::chrono::steady_clock::now();
    request_ctx ctx(req);
    ctx.request_id = next_request_id();
    ctx.now = app_.now_ms();
    ctx.remote_ip = ci.remote_ip;
    if (auto it = req.find(http::field::origin); it != req.end()) ctx.origin = std::string(it->value());
    // Same-origin GETs carry no Origin header (browsers omit it), so azp falls back to the Referer's origin,
    // then to the app origin a proxy announces.
    ctx.azp = ctx.origin;
    if (ctx.azp.empty())
        if (auto it = req.find(http::field::referer); it != req.end()) ctx.azp = origin_of(it->value());
    if (ctx.azp.empty())
        if (auto it = req.find("Clerk-Proxy-Url"); it != req.end()) ctx.azp = origin_of(it->value());
    if (ctx.azp.size() > 256 || ctx.azp.find_first_of("\"\\") != std::string::npos) ctx.azp.clear();

    stage_state s{app_, routes_, kind_, req, ctx};
    stage_outcome answer;
    for (auto const& st : stages)
        if ((answer = st.run(s))) break;

    // run: the handler (on the hash pool for routes that may hash a password), unless a stage answered.
    api_result<reply> result = make_error(code::internal_clerk_error);
    if (answer) {
        result = std::move(*answer);
    } else if (s.route->exec == exec_policy::hash_pool || (offload_writes_ && may_write(req))) {
        if (app_.metrics != nullptr) app_.metrics->hash_pool_enter();
        result = co_await net::co_spawn(
            hash_pool_, [&]() -> net::awaitable<api_result<reply>> { co_return invoke(*s.route, ctx); },
            net::use_awaitable);
        if (app_.metrics != nullptr) app_.metrics->hash_pool_leave();
    } else {
        result = invoke(*s.route, ctx);
    }
    // "unmatched" until a route is found
    std::size_t const metric_slot = metric_base_ + (s.route != nullptr ? s.route_index : routes_.size());

    // finish: status, headers, body, metrics, the access log.
    finish(res, ctx, result);
    if (!ctx.console_operator_id.empty())  // a console write lands in the audit log with its outcome (issue 23)
        console::audit_request(app_, ctx, routes_.pattern(s.route_index), res.result_int());
    if (!answer && !result && kind_ == api_kind::frontend)  // the console's failed sign-ins chart (issue 23)
        console::count_sign_in_refusal(app_, ctx, routes_.pattern(s.route_index), result.error());
    if (result && !result->static_body.empty()) {
        if (static_body != nullptr)
            *static_body = result->static_body;
        else
            res.body().assign(result->static_body);
    }
    if (req.method() == http::verb::head) res.body().clear();
    if (app_.metrics != nullptr)
        app_.metrics->observe(metric_slot, res.result_int(), std::chrono::steady_clock::now() - t0);
    if (app_.cfg.access_log) {
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
        std::string_view const code_text = result ? std::string_view{} : code_name(result.error().code);
        log::access(kind_ == api_kind::frontend ? "fapi" : "bapi", ctx.request_id, http::to_string(ctx.method),
                    ctx.path, res.result_int(), code_text, us,
                    result && !result->static_body.empty() ? result->static_body.size() : res.body().size(),
                    ctx.remote_ip);
    }
}

void api_service::finish(response& res, request_ctx& ctx, api_result<reply>& r) {
    res.set(http::field::server, "latchkey");
    bool const static_file = r && !r->content_type.empty();  // its handler set its own caching and CORS headers
    if (kind_ == api_kind::frontend && !static_file) {
        add_cors(app_, ctx, res);
        if (ctx.method == http::verb::options && !ctx.origin.empty() && origin_allowed(app_, ctx.origin)) {
            res.set(http::field::access_control_allow_methods, "GET, POST, PUT, PATCH, DELETE, OPTIONS");
            if (auto it = ctx.req.find(http::field::access_control_request_headers); it != ctx.req.end())
                res.set(http::field::access_control_allow_headers, it->value().substr(0, 512));
            res.set(http::field::access_control_max_age, "600");
        }
        res.set(http::field::cache_control, "no-store");
    }
    for (auto const& c : ctx.set_cookies) res.insert(http::field::set_cookie, c);
    for (auto const& [k, v] : ctx.headers) res.set(k, v);
    if (r) {
        res.result(r->status);
        if (!r->location.empty()) {
            res.set(http::field::location, r->location);
            res.set(http::field::cache_control, "no-store");
        }
        if (static_file) {
            if (r->status != http::status::not_modified) res.set(http::field::content_type, r->content_type);
        } else if (r->status != http::status::no_content && r->location.empty()) {
            res.set(http::field::content_type, "application/json");
        }
        res.body() = std::move(r->body);
    } else {
        auto const& e = r.error();
        res.result(e.status);
        res.set(http::field::content_type, "application/json");
        if (e.status == http::status::too_many_requests)
            if (auto const* ra = e.meta.if_contains("retry_after"); ra != nullptr && ra->is_int64())
                res.set(http::field::retry_after, std::to_string(ra->get_int64()));
        res.body() = render_errors(e, ctx.request_id);
    }
}

}  // namespace latchkey::server::api
