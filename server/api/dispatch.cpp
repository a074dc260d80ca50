#include "server/api/dispatch.hpp"

#include "server/metrics.hpp"

#include "crypto/ossl.hpp"
#include "crypto/random.hpp"
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
        case json::kind::string: return v.get_string().size() <= max;
        case json::kind::array:
            for (auto const& e : v.get_array())
                if (!strings_within(e, max)) return false;
            return true;
        case json::kind::object:
            for (auto const& kv : v.get_object())
                if (kv.key().size() > max || !strings_within(kv.value(), max)) return false;
            return true;
        default: return true;
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

void api_service::transport_error(response& res, http::status status, std::string_view c, std::string_view message) {
    api_error e;
    e.status = status;
    e.code = std::string(c);
    e.message = std::string(message);
    e.long_message = std::string(message);
    res.result(status);
    res.set(http::field::content_type, "application/json");
    res.set(http::field::server, "latchkey");
    res.body() = render_errors(e, next_request_id());
    log::access(kind_ == api_kind::frontend ? "fapi" : "bapi", "-", "-", "-", static_cast<unsigned>(status), c, 0,
                res.body().size(), "");
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
    api_result<reply> result = make_error(code::internal_clerk_error);
    route_entry const* route = nullptr;
    std::size_t metric_slot = metric_base_ + routes_.size();  // "unmatched" until a route is found
    std::size_t route_index = 0;
    bool ready = false;  // parsing and auth passed: run the handler

    [&] {
        // Target: path and query.
        std::string_view target = req.target();
        auto qpos = target.find('?');
        std::string_view raw_path = target.substr(0, qpos);
        std::string_view raw_query = qpos == std::string_view::npos ? std::string_view{} : target.substr(qpos + 1);
        if (kind_ == api_kind::frontend && !app_.inst.fapi_path_prefix.empty() &&
            raw_path.starts_with(app_.inst.fapi_path_prefix))
            raw_path.remove_prefix(app_.inst.fapi_path_prefix.size());
        ctx.path = std::string(raw_path);
        if (parse_urlencoded(raw_query, ctx.query, app_.cfg.max_field_bytes) != parse_status::ok) {
            result = param_error(code::form_param_format_invalid, "query", "The query string is malformed.");
            return;
        }
        // Proxied requests (Clerk's proxy guide): trust X-Forwarded-For only with a valid Clerk-Secret-Key.
        if (auto xff = req.find("X-Forwarded-For"); xff != req.end()) {
            auto sk = req.find("Clerk-Secret-Key");
            if (sk != req.end()) {
                for (auto const& k : app_.inst.secret_keys)
                    if (crypto::equal_ct(k, sk->value())) {
                        std::string_view v = xff->value();
                        auto comma = v.find(',');
                        ctx.remote_ip = std::string(v.substr(0, comma));
                        break;
                    }
            }
        }
        ctx.method = req.method();
        if (ctx.method == http::verb::post) {
            if (auto const* m = ctx.query.find("_method")) {
                if (*m == "PATCH") ctx.method = http::verb::patch;
                else if (*m == "PUT") ctx.method = http::verb::put;
                else if (*m == "DELETE") ctx.method = http::verb::delete_;
            }
        }
        if (kind_ == api_kind::frontend && ctx.method == http::verb::options) {
            result = reply{http::status::no_content, {}, {}};
            return;
        }
        auto m = routes_.find(ctx.method == http::verb::head ? http::verb::get : ctx.method, ctx.path, ctx.params);
        if (m.result == route_table::outcome::not_found) {
            result = make_error(code::resource_not_found);
            return;
        }
        if (m.result == route_table::outcome::method_not_allowed) {
            ctx.headers.emplace_back("Allow", m.allow);
            result = make_error(code::method_not_allowed);
            return;
        }
        route = m.payload;
        route_index = m.index;
        metric_slot = metric_base_ + m.index;

        // Cookies.
        for (auto it = req.find(http::field::cookie); it != req.end() && it->name() == http::field::cookie; ++it)
            parse_cookies(it->value(), ctx.cookies);

        // Auth.
        if (route->auth == auth_policy::secret_key) {
            auto it = req.find(http::field::authorization);
            if (it == req.end() || it->value().empty()) {
                result = make_error(code::authorization_header_missing);
                return;
            }
            std::string_view v = it->value();
            if (v.starts_with("Bearer ")) v.remove_prefix(7);
            bool ok = false;
            for (auto const& k : app_.inst.secret_keys) ok = crypto::equal_ct(k, v) || ok;
            if (!ok) {
                result = make_error(code::clerk_key_invalid);
                return;
            }
        }

        // Body.
        std::string_view body = req.body();
        if (!body.empty()) {
            std::string_view ct;
            if (auto it = req.find(http::field::content_type); it != req.end()) ct = it->value();
            if (ct.starts_with("application/json")) {
                json::parse_options opt;
                opt.max_depth = 32;
                boost::system::error_code ec;
                json::value v = json::parse(body, ec, {}, opt);
                // The BAPI's bulk endpoints (".../bulk", e.g. POST /v1/waitlist_entries/bulk) take a JSON array.
                bool const bulk = kind_ == api_kind::backend && routes_.pattern(route_index).ends_with("/bulk");
                if (ec || !(v.is_object() || (bulk && v.is_array()))) {
                    result = make_error(code::request_body_invalid);
                    return;
                }
                if (!strings_within(v, app_.cfg.max_field_bytes)) {
                    result = param_error(code::form_param_max_length_exceeded, "body",
                                         "A field in the request body is too long.");
                    return;
                }
                if (kind_ == api_kind::frontend) {
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
            } else if (ct.starts_with("application/x-www-form-urlencoded") || ct.empty()) {
                // A SAML response (issue 15) is posted as one large base64 field.
                auto const field_limit = ctx.path.starts_with("/v1/saml/acs/")
                                             ? std::max<std::size_t>(app_.cfg.max_field_bytes, 512 * 1024)
                                             : std::size_t{app_.cfg.max_field_bytes};
                auto st = parse_urlencoded(body, ctx.form, field_limit);
                if (st == parse_status::field_too_large) {
                    result = param_error(code::form_param_max_length_exceeded, "body", "A form field is too long.");
                    return;
                }
                if (st != parse_status::ok) {
                    result = make_error(code::request_body_invalid);
                    return;
                }
                if (kind_ == api_kind::backend) {
                    json::object o;
                    for (auto const& [k, v] : ctx.form.items()) o[k] = v;
                    ctx.body = std::move(o);
                }
            } else if (beast::iequals(ct.substr(0, 19), "multipart/form-data")) {
                // Uploads (issue 14): the handler reads the file parts itself (server/api/images); the text
                // fields join the form as urlencoded ones would.
                std::vector<multipart_part> parts;
                if (parse_multipart(ct, body, parts) != multipart_status::ok) {
                    result = make_error(code::request_body_invalid);
                    return;
                }
                json::object fields;
                for (auto const& p : parts) {
                    if (p.has_filename) continue;
                    if (p.name.size() > app_.cfg.max_field_bytes || p.data.size() > app_.cfg.max_field_bytes) {
                        result = param_error(code::form_param_max_length_exceeded, "body", "A form field is too long.");
                        return;
                    }
                    if (!valid_utf8(p.name) || !valid_utf8(p.data)) {
                        result = make_error(code::request_body_invalid);
                        return;
                    }
                    if (p.name == "file") continue;  // a file sent without a filename: for the handler
                    ctx.form.add(std::string(p.name), std::string(p.data));
                    fields[p.name] = p.data;
                }
                if (kind_ == api_kind::backend) ctx.body = std::move(fields);
            } else if (ct.starts_with("application/octet-stream")) {
                // A raw upload (issue 14): the handler reads the body itself.
            } else {
                result = make_error(code::unsupported_content_type);
                return;
            }
        }
        if (kind_ == api_kind::backend && ctx.body.is_null()) ctx.body = json::object{};

        if (route->auth == auth_policy::fapi) {
            auto r = frontend::resolve_identity(app_, ctx);
            if (!r) {
                result = r.error();
                return;
            }
            // CSRF (ASVS V4.2.2): a state-changing request authenticated by the __client cookie must come from
            // an allowed origin: judged by Origin, else by the Referer's origin, else by Sec-Fetch-Site.
            if (ctx.cookie_auth && ctx.method != http::verb::get && ctx.method != http::verb::head) {
                bool cross = false;
                if (!ctx.origin.empty()) {
                    cross = !origin_allowed(app_, ctx.origin);
                } else if (auto ref = req.find(http::field::referer); ref != req.end()) {
                    auto t = parse_redirect(ref->value());
                    cross = !t || !origin_allowed(app_, t->origin);
                } else if (auto sf = req.find("Sec-Fetch-Site"); sf != req.end()) {
                    cross = sf->value() == "cross-site";
                }
                if (cross) {
                    result = make_error(code::origin_invalid);
                    return;
                }
            }
        }
        ready = true;
    }();

    if (ready) {
        if (route->exec == exec_policy::hash_pool || (offload_writes_ && may_write(req))) {
            if (app_.metrics != nullptr) app_.metrics->hash_pool_enter();
            result = co_await net::co_spawn(
                hash_pool_, [&]() -> net::awaitable<api_result<reply>> { co_return invoke(*route, ctx); },
                net::use_awaitable);
            if (app_.metrics != nullptr) app_.metrics->hash_pool_leave();
        } else {
            result = invoke(*route, ctx);
        }
    }
    finish(res, ctx, result);
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
        // result<T, api_error>::error() returns a copy: keep the code in a string, not a view of a temporary.
        std::string const code_text = result ? std::string{} : result.error().code;
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
