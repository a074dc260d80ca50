#include "conf/load.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/throw_exception.hpp>

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <variant>

namespace latchkey::conf {

namespace json = boost::json;

void throw_exception_from_error(load_error const& e, boost::source_location const& loc) {
    boost::throw_exception(std::runtime_error(e.what()), loc);
}

std::vector<std::string> split_list(std::string_view s, std::string_view separators) {
    std::vector<std::string> out;
    while (!s.empty()) {
        auto const sep = s.find_first_of(separators);
        auto part = s.substr(0, sep);
        while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
        while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
        if (!part.empty()) out.emplace_back(part);
        if (sep == std::string_view::npos) break;
        s.remove_prefix(sep + 1);
    }
    return out;
}

env_lookup process_env() {
    return [](std::string_view name) -> std::optional<std::string> {
        std::string n(name);
        char const* v = std::getenv(n.c_str());  // NOLINT(concurrency-mt-unsafe): read at startup only
        if (v == nullptr) return std::nullopt;
        return std::string(v);
    };
}

namespace {

using error_opt = std::optional<std::string>;  // message when the value is bad

error_opt parse_bool(std::string_view s, bool& out) {
    if (s == "true" || s == "1" || s == "yes" || s == "on") {
        out = true;
        return {};
    }
    if (s == "false" || s == "0" || s == "no" || s == "off") {
        out = false;
        return {};
    }
    return "expected true or false";
}

template <class Int>
error_opt parse_uint(std::string_view s, Int& out, Int max) {
    unsigned long long v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || s.empty()) return "expected a non-negative integer";
    if (v > static_cast<unsigned long long>(max)) return "value too large";
    out = static_cast<Int>(v);
    return {};
}

/// A process setting reachable from a flag, an env var and a top-level JSON key.
struct setting {
    std::string_view key;  ///< JSON key and flag name with '-' for '_'
    std::string_view env;  ///< env var
    std::string_view help;
    error_opt (*from_string)(config&, std::string_view);
};

#define LATCHKEY_STR_SETTING(field)                  \
    [](config& c, std::string_view v) -> error_opt { \
        c.field = std::string(v);                    \
        return {};                                   \
    }

// clang-format off
setting const settings[] = {
    {"listen", "LATCHKEY_LISTEN", "FAPI address ADDR:PORT (default 127.0.0.1:8080)", LATCHKEY_STR_SETTING(listen)},
    {"backend_listen", "LATCHKEY_BACKEND_LISTEN", "BAPI address ADDR:PORT (default 127.0.0.1:8081)", LATCHKEY_STR_SETTING(backend_listen)},
    {"data_dir", "LATCHKEY_DATA_DIR", "data directory (default ./.latchkey/data)", LATCHKEY_STR_SETTING(data_dir)},
    {"config", "LATCHKEY_CONFIG", "JSON config file", LATCHKEY_STR_SETTING(config_file)},
    {"secret_key", "LATCHKEY_SECRET_KEY", "BAPI secret key(s), comma-separated; first is primary",
        [](config& c, std::string_view v) -> error_opt { c.secret_keys = split_list(v); return {}; }},
    {"frontend_api", "LATCHKEY_FRONTEND_API", "public FAPI URL as browsers reach it", LATCHKEY_STR_SETTING(frontend_api)},
    {"app_domain", "LATCHKEY_APP_DOMAIN", "the app's domain (default: registrable domain of the frontend API host)",
        [](config& c, std::string_view v) -> error_opt {
            std::string d(v);
            for (char& ch : d) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            bool ok = !d.empty() && d.size() <= 253 && d.find("..") == std::string::npos && d.front() != '.' &&
                      d.back() != '.' && d.find('.') != std::string::npos;
            for (char ch : d) ok = ok && ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.');
            if (!ok) return std::string("expected a domain name such as example.com");
            c.app_domain = std::move(d);
            return {};
        }},
    {"instance", "LATCHKEY_INSTANCE", "development | production", LATCHKEY_STR_SETTING(instance_type)},
    {"test_mode", "LATCHKEY_TEST_MODE", "true | false: +clerk_test emails and 555-01xx phones accept 424242",
        [](config& c, std::string_view v) { return parse_bool(v, c.test_mode); }},
    {"threads", "LATCHKEY_THREADS", "I/O threads (0 = cores)",
        [](config& c, std::string_view v) { return parse_uint<unsigned>(v, c.threads, 1024); }},
    {"hash_threads", "LATCHKEY_HASH_THREADS", "password hashing threads (0 = cores - 1, at least 1)",
        [](config& c, std::string_view v) { return parse_uint<unsigned>(v, c.hash_threads, 1024); }},
    {"durable", "LATCHKEY_DURABLE", "true | false: fsync every commit (default true)",
        [](config& c, std::string_view v) { return parse_bool(v, c.durable); }},
    {"access_log", "LATCHKEY_ACCESS_LOG", "true | false: one JSON line per request (default true)",
        [](config& c, std::string_view v) { return parse_bool(v, c.access_log); }},
    {"map_size", "LATCHKEY_MAP_SIZE", "LMDB map size in bytes",
        [](config& c, std::string_view v) { return parse_uint<std::uint64_t>(v, c.map_size, 1ull << 44); }},
    {"tls_cert", "LATCHKEY_TLS_CERT", "PEM certificate chain (enables TLS)", LATCHKEY_STR_SETTING(tls_cert)},
    {"tls_key", "LATCHKEY_TLS_KEY", "PEM private key for tls_cert", LATCHKEY_STR_SETTING(tls_key)},
    {"geoip_database", "LATCHKEY_GEOIP_DATABASE", "MaxMind DB file (GeoLite2-City.mmdb): city and country of sessions",
        LATCHKEY_STR_SETTING(geoip_database)},
    // issue 16: the shared store (JSON: "store": {"postgres_url": ...}, or this top-level key)
    {"postgres_url", "LATCHKEY_POSTGRES_URL", "PostgreSQL URL: shared store of record, LMDB a local replica (default: none)",
        LATCHKEY_STR_SETTING(postgres_url)},
};
// clang-format on
#undef LATCHKEY_STR_SETTING

setting const* find_setting(std::string_view key) {
    for (auto const& s : settings)
        if (s.key == key) return &s;
    return nullptr;
}

std::string flag_name(std::string_view key) {
    std::string f = "--";
    for (char ch : key) f += ch == '_' ? '-' : ch;
    return f;
}

// ---- JSON reading ----

/// One key of a JSON section and the member of S it sets (an integer's upper bound in `max`): a section's table
/// of fields is both its reader and its list of known keys.
template <class S>
struct field {
    std::string_view key;
    std::variant<std::string S::*, bool S::*, std::vector<std::string> S::*, std::uint32_t S::*,
                 std::chrono::seconds S::*, std::chrono::milliseconds S::*>
        member;
    std::uint64_t max = 0;
};

template <class S>
using fields_of = std::initializer_list<field<S>>;

struct json_reader {
    std::string path;  // "passwords.min_length"
    std::optional<load_error> err;

    void fail(std::string_view key, std::string msg) {
        if (!err) err = load_error{path.empty() ? std::string(key) : path + "." + std::string(key), std::move(msg)};
    }
    void boolean(json::object const& o, std::string_view key, bool& out) {
        if (auto const* v = o.if_contains(key)) {
            if (v->is_bool())
                out = v->get_bool();
            else
                fail(key, "expected a boolean");
        }
    }
    template <class Int>
    void integer(json::object const& o, std::string_view key, Int& out, std::uint64_t max) {
        if (auto const* v = o.if_contains(key)) {
            if (v->is_uint64() && v->get_uint64() <= max)
                out = static_cast<Int>(v->get_uint64());
            else if (v->is_int64() && v->get_int64() >= 0 && static_cast<std::uint64_t>(v->get_int64()) <= max)
                out = static_cast<Int>(v->get_int64());
            else
                fail(key, "expected a non-negative integer up to " + std::to_string(max));
        }
    }
    void seconds(json::object const& o, std::string_view key, std::chrono::seconds& out) {
        std::uint64_t s = static_cast<std::uint64_t>(out.count());
        integer(o, key, s, 10ull * 365 * 24 * 3600);
        out = std::chrono::seconds(static_cast<long long>(s));
    }
    void millis(json::object const& o, std::string_view key, std::chrono::milliseconds& out) {
        std::uint64_t s = static_cast<std::uint64_t>(out.count());
        integer(o, key, s, 3600ull * 1000);
        out = std::chrono::milliseconds(static_cast<long long>(s));
    }
    void string(json::object const& o, std::string_view key, std::string& out) {
        if (auto const* v = o.if_contains(key)) {
            if (v->is_string())
                out = std::string(v->get_string());
            else
                fail(key, "expected a string");
        }
    }
    void strings(json::object const& o, std::string_view key, std::vector<std::string>& out) {
        auto const* v = o.if_contains(key);
        if (v == nullptr) return;
        if (!v->is_array()) return fail(key, "expected an array of strings");
        std::vector<std::string> r;
        for (auto const& e : v->get_array()) {
            if (!e.is_string()) return fail(key, "expected an array of strings");
            r.emplace_back(e.get_string());
        }
        out = std::move(r);
    }
    /// Reads every field of the table present in `o` into `s`, in the table's order.
    template <class S>
    void fields(json::object const& o, S& s, fields_of<S> table) {
        for (auto const& f : table) std::visit([&](auto m) { set(o, f.key, s.*m, f.max); }, f.member);
    }
    void set(json::object const& o, std::string_view key, std::string& out, std::uint64_t) { string(o, key, out); }
    void set(json::object const& o, std::string_view key, bool& out, std::uint64_t) { boolean(o, key, out); }
    void set(json::object const& o, std::string_view key, std::vector<std::string>& out, std::uint64_t) {
        strings(o, key, out);
    }
    void set(json::object const& o, std::string_view key, std::uint32_t& out, std::uint64_t max) {
        integer(o, key, out, max);
    }
    void set(json::object const& o, std::string_view key, std::chrono::seconds& out, std::uint64_t) {
        seconds(o, key, out);
    }
    void set(json::object const& o, std::string_view key, std::chrono::milliseconds& out, std::uint64_t) {
        millis(o, key, out);
    }
    bool only_keys(json::object const& o, std::initializer_list<std::string_view> keys) {
        return only_keys_where(
            o, [&](std::string_view key) { return std::find(keys.begin(), keys.end(), key) != keys.end(); });
    }
    template <class S>
    bool only_keys(json::object const& o, fields_of<S> table) {
        return only_keys_where(o, [&](std::string_view key) {
            return std::find_if(table.begin(), table.end(), [&](field<S> const& f) { return f.key == key; }) !=
                   table.end();
        });
    }
    /// Whether every key of `o` is `known`; the first that is not fails as an unknown setting.
    bool only_keys_where(json::object const& o, std::function<bool(std::string_view)> const& known) {
        for (auto const& kv : o) {
            if (!known(kv.key())) {
                fail(kv.key(), "unknown setting");
                return false;
            }
        }
        return true;
    }
};

/// Reads the nested object `key` of `root`, when present, with `read(sub, object)`: anything but an object, or a
/// key outside `keys`, fails naming it; the first error inside becomes r's.
template <class Read>
void nested(json_reader& r, json::object const& root, std::string_view key,
            std::initializer_list<std::string_view> keys, Read&& read) {
    auto const* v = root.if_contains(key);
    if (v == nullptr) return;
    if (!v->is_object()) return r.fail(key, "expected an object");
    json_reader sub{r.path.empty() ? std::string(key) : r.path + "." + std::string(key), {}};
    auto const& o = v->get_object();
    if (sub.only_keys(o, keys)) read(sub, o);
    if (sub.err && !r.err) r.err = sub.err;
}

/// Reads the nested object `key` of `root`, when present, into `s` by its table of fields (which also names the
/// keys it may hold).
template <class S>
void section(json_reader& r, json::object const& root, std::string_view key, S& s, fields_of<S> table) {
    auto const* v = root.if_contains(key);
    if (v == nullptr) return;
    if (!v->is_object()) return r.fail(key, "expected an object");
    json_reader sub{r.path.empty() ? std::string(key) : r.path + "." + std::string(key), {}};
    auto const& o = v->get_object();
    if (sub.only_keys(o, table)) sub.fields(o, s, table);
    if (sub.err && !r.err) r.err = sub.err;
}

/// Reads the array `key` of `root`, when present, into `out` (replacing what it held): each element an object
/// with only `keys`, read by read(sub, object, element) where sub names it "key[i]"; the first element with an
/// error stops the read and gives r its error. `what` names the elements in the error for a non-array.
template <class T, class Read>
void objects(json_reader& r, json::object const& root, std::string_view key, std::string_view what,
             std::initializer_list<std::string_view> keys, std::vector<T>& out, Read&& read) {
    auto const* v = root.if_contains(key);
    if (v == nullptr) return;
    if (!v->is_array()) return r.fail(key, "expected an array of " + std::string(what));
    out.clear();
    std::size_t i = 0;
    for (auto const& e : v->get_array()) {
        json_reader sub{std::string(key) + "[" + std::to_string(i++) + "]", {}};
        T element;
        if (!e.is_object())
            sub.fail("", "expected an object");
        else if (sub.only_keys(e.get_object(), keys))
            read(sub, e.get_object(), element);
        if (sub.err) {
            if (!r.err) r.err = sub.err;
            return;
        }
        out.push_back(std::move(element));
    }
}

/// "organizations": {enabled, max_allowed_memberships, creator_role, default_role, admin_delete,
/// force_organization_selection, slug_disabled, roles: [{key, name, description, permissions}], domains_enabled,
/// domain_enrollment_modes}.
void read_organizations(json_reader& r, json::object const& root, organization_settings& s) {
    nested(r, root, "organizations",
           {"enabled", "max_allowed_memberships", "creator_role", "default_role", "admin_delete",
            "force_organization_selection", "slug_disabled", "roles", "domains_enabled", "domain_enrollment_modes"},
           [&](json_reader& sub, json::object const& o) {
               sub.fields(o, s,
                          {{"enabled", &organization_settings::enabled},
                           {"max_allowed_memberships", &organization_settings::max_allowed_memberships, 100000},
                           {"creator_role", &organization_settings::creator_role},
                           {"default_role", &organization_settings::default_role},
                           {"admin_delete", &organization_settings::admin_delete},
                           {"force_organization_selection", &organization_settings::force_organization_selection},
                           {"slug_disabled", &organization_settings::slug_disabled},
                           {"domains_enabled", &organization_settings::domains_enabled}});
               if (o.contains("domain_enrollment_modes")) {
                   sub.strings(o, "domain_enrollment_modes", s.domain_enrollment_modes);
                   for (auto const& m : s.domain_enrollment_modes)
                       if (m != "automatic_invitation" && m != "automatic_suggestion")
                           return sub.fail("domain_enrollment_modes",
                                           "expected automatic_invitation and/or automatic_suggestion");
               }
               auto valid_key = [](std::string_view k, std::size_t parts) {
                   if (!k.starts_with("org:") || k.size() > 64) return false;
                   std::size_t colons = 0;
                   for (char ch : k) {
                       if (ch == ':')
                           ++colons;
                       else if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
                           return false;
                   }
                   return colons == parts && !k.ends_with(":") && k.find("::") == std::string_view::npos;
               };
               if (auto const* v = o.if_contains("roles")) {
                   if (!v->is_array()) return sub.fail("roles", "expected an array");
                   s.roles.clear();
                   for (auto const& e : v->get_array()) {
                       if (!e.is_object()) return sub.fail("roles", "expected objects");
                       json_reader rr{sub.path + ".roles", {}};
                       org_role role;
                       if (rr.only_keys(e.get_object(), {"key", "name", "description", "permissions"})) {
                           rr.string(e.get_object(), "key", role.key);
                           rr.string(e.get_object(), "name", role.name);
                           rr.string(e.get_object(), "description", role.description);
                           rr.strings(e.get_object(), "permissions", role.permissions);
                           if (!valid_key(role.key, 1) || role.key == "org:admin" || role.key == "org:member")
                               rr.fail("key", "expected org:<name> (a-z, 0-9, _ -), not a system role");
                           for (auto const& p : role.permissions)
                               if (!valid_key(p, 2) || p.starts_with("org:sys_"))
                                   rr.fail("permissions", "expected org:<feature>:<permission> (not org:sys_*)");
                           if (role.name.empty()) role.name = role.key;
                       }
                       if (rr.err) {
                           if (!sub.err) sub.err = rr.err;
                           return;
                       }
                       s.roles.push_back(std::move(role));
                   }
               }
               auto known = [&](std::string const& k) {
                   if (k == "org:admin" || k == "org:member") return true;
                   for (auto const& x : s.roles)
                       if (x.key == k) return true;
                   return false;
               };
               if (!known(s.creator_role)) sub.fail("creator_role", "not a known role");
               if (!known(s.default_role)) sub.fail("default_role", "not a known role");
           });
}

void read_attribute(json_reader& r, json::object const& root, std::string_view key, attribute& a) {
    section(r, root, key, a,
            {{"enabled", &attribute::enabled},
             {"required", &attribute::required},
             {"used_for_first_factor", &attribute::used_for_first_factor},
             {"verify_at_sign_up", &attribute::verify_at_sign_up}});
}

void read_template(json_reader& r, json::object const& o, std::string_view key, message_template& t) {
    section(r, o, key, t, {{"subject", &message_template::subject}, {"text", &message_template::text}});
}

/// "delivery": {email, sms, templates, max_attempts, backoff_base_ms, backoff_max_ms, workers} and "webhooks".
void read_delivery(json_reader& r, json::object const& o, config& c) {
    auto& d = c.delivery;
    nested(r, o, "delivery",
           {"email", "sms", "templates", "max_attempts", "backoff_base_ms", "backoff_max_ms", "workers"},
           [&](json_reader& sub, json::object const& dv) {
               section(sub, dv, "email", d.email,
                       {{"mode", &email_delivery::mode},
                        {"host", &email_delivery::host},
                        {"port", &email_delivery::port, 65535},
                        {"tls", &email_delivery::tls},
                        {"user", &email_delivery::user},
                        {"password", &email_delivery::password},
                        {"password_env", &email_delivery::password_env},
                        {"password_file", &email_delivery::password_file},
                        {"from", &email_delivery::from},
                        {"ca_file", &email_delivery::ca_file},
                        {"connect_timeout_ms", &email_delivery::connect_timeout},
                        {"timeout_ms", &email_delivery::timeout}});
               section(sub, dv, "sms", d.sms,
                       {{"mode", &sms_delivery::mode},
                        {"base_url", &sms_delivery::base_url},
                        {"account_sid", &sms_delivery::account_sid},
                        {"auth_token", &sms_delivery::auth_token},
                        {"auth_token_env", &sms_delivery::auth_token_env},
                        {"auth_token_file", &sms_delivery::auth_token_file},
                        {"from", &sms_delivery::from},
                        {"ca_file", &sms_delivery::ca_file},
                        {"timeout_ms", &sms_delivery::timeout}});
               nested(sub, dv, "templates",
                      {"verification_code", "password_reset", "email_link", "invitation", "sms_code"},
                      [&](json_reader& t, json::object const& to) {
                          read_template(t, to, "verification_code", d.verification_code);
                          read_template(t, to, "password_reset", d.password_reset);
                          read_template(t, to, "email_link", d.email_link);
                          read_template(t, to, "invitation", d.invitation);
                          read_template(t, to, "sms_code", d.sms_code);
                      });
               sub.integer(dv, "max_attempts", d.max_attempts, 100);
               sub.millis(dv, "backoff_base_ms", d.backoff_base);
               sub.millis(dv, "backoff_max_ms", d.backoff_max);
               sub.integer(dv, "workers", d.workers, 64);
           });
    objects(r, o, "webhooks", "endpoints", {"url", "secret", "events", "ca_file"}, c.webhooks,
            [](json_reader& sub, json::object const& eo, webhook_endpoint& ep) {
                sub.string(eo, "url", ep.url);
                sub.string(eo, "ca_file", ep.ca_file);
                sub.strings(eo, "events", ep.events);
                if (auto const* s = eo.if_contains("secret")) {
                    if (s->is_string())
                        ep.secrets.emplace_back(s->get_string());
                    else
                        sub.strings(eo, "secret", ep.secrets);
                }
            });
}

/// "oauth_providers": [{strategy, name, logo_url, client_id, client_secret, issuer, authorization_endpoint,
/// token_endpoint, jwks_uri, userinfo_endpoint, scopes, ca_file, allow_http, timeout_ms}].
void read_oauth_providers(json_reader& r, json::object const& o, config& c) {
    objects(
        r, o, "oauth_providers", "providers",
        {"strategy", "name", "logo_url", "client_id", "client_secret", "issuer", "authorization_endpoint",
         "token_endpoint", "jwks_uri", "userinfo_endpoint", "scopes", "ca_file", "allow_http", "timeout_ms",
         "emails_endpoint", "userinfo_mapping", "revocation_endpoint"},
        c.oauth_providers, [&](json_reader& sub, json::object const& po, oauth_provider& p) {
            sub.fields(po, p,
                       {{"strategy", &oauth_provider::strategy},
                        {"name", &oauth_provider::name},
                        {"logo_url", &oauth_provider::logo_url},
                        {"client_id", &oauth_provider::client_id},
                        {"client_secret", &oauth_provider::client_secret},
                        {"issuer", &oauth_provider::issuer},
                        {"authorization_endpoint", &oauth_provider::authorization_endpoint},
                        {"token_endpoint", &oauth_provider::token_endpoint},
                        {"jwks_uri", &oauth_provider::jwks_uri},
                        {"userinfo_endpoint", &oauth_provider::userinfo_endpoint},
                        {"scopes", &oauth_provider::scopes},
                        {"ca_file", &oauth_provider::ca_file},
                        {"allow_http", &oauth_provider::allow_http},
                        {"timeout_ms", &oauth_provider::timeout},
                        {"emails_endpoint", &oauth_provider::emails_endpoint},
                        {"revocation_endpoint", &oauth_provider::revocation_endpoint}});
            if (auto const* m = po.if_contains("userinfo_mapping"); m != nullptr && !sub.err) {
                if (!m->is_object()) {
                    sub.fail("userinfo_mapping", "expected an object");
                } else if (sub.only_keys(m->get_object(), {"user_id", "email_address", "email_verified", "first_name",
                                                           "last_name", "name", "username", "image_url"})) {
                    auto const& mo = m->get_object();
                    sub.fields(mo, p,
                               {{"user_id", &oauth_provider::map_user_id},
                                {"email_address", &oauth_provider::map_email_address},
                                {"email_verified", &oauth_provider::map_email_verified},
                                {"first_name", &oauth_provider::map_first_name},
                                {"last_name", &oauth_provider::map_last_name},
                                {"name", &oauth_provider::map_name},
                                {"username", &oauth_provider::map_username},
                                {"image_url", &oauth_provider::map_image_url}});
                }
            }
            // GitHub (a plain OAuth 2.0 provider): its endpoints and scopes unless configured (tests point them
            // at 127.0.0.1).
            if (!sub.err && p.strategy == "oauth_github" && p.issuer.empty()) {
                if (p.authorization_endpoint.empty())
                    p.authorization_endpoint = "https://github.com/login/oauth/authorize";
                if (p.token_endpoint.empty()) p.token_endpoint = "https://github.com/login/oauth/access_token";
                if (p.userinfo_endpoint.empty()) p.userinfo_endpoint = "https://api.github.com/user";
                if (p.emails_endpoint.empty() && !po.contains("userinfo_endpoint"))
                    p.emails_endpoint = "https://api.github.com/user/emails";
                if (!po.contains("scopes")) p.scopes = {"read:user", "user:email"};
            }
            if (!sub.err && (p.strategy.size() < 7 || p.strategy.rfind("oauth_", 0) != 0 || p.strategy.size() > 64))
                sub.fail("strategy", "expected oauth_<provider> or oauth_custom_<slug>");
            if (!sub.err && p.client_id.empty()) sub.fail("client_id", "required");
            if (!sub.err && p.issuer.empty() && (p.authorization_endpoint.empty() || p.token_endpoint.empty()))
                sub.fail("issuer", "an issuer (discovery) or both authorization_endpoint and token_endpoint");
            if (!sub.err && p.issuer.empty() && p.userinfo_endpoint.empty())
                sub.fail("userinfo_endpoint", "required for a provider without an issuer (the identity comes from it)");
            for (auto const& prev : c.oauth_providers)
                if (!sub.err && prev.strategy == p.strategy) sub.fail("strategy", "configured twice");
            if (!sub.err && p.name.empty()) p.name = p.strategy.substr(6);
        });
}

/// "saml_connections": [{id, name, provider, domains, idp_entity_id, idp_sso_url, idp_certificate, idp_metadata,
/// idp_metadata_url, attribute_mapping: {user_id, email_address, first_name, last_name}, allow_idp_initiated,
/// sign_authn_requests, active}] (issue 15). The IdP is given by entity id + SSO URL + certificate, or by its
/// metadata XML, or by the https URL of its metadata.
void read_saml_connections(json_reader& r, json::object const& o, config& c) {
    objects(
        r, o, "saml_connections", "connections",
        {"id", "name", "provider", "domains", "idp_entity_id", "idp_sso_url", "idp_certificate", "idp_metadata",
         "attribute_mapping", "allow_idp_initiated", "sign_authn_requests", "active", "idp_metadata_url"},
        c.saml_connections, [&](json_reader& sub, json::object const& so, saml_connection& s) {
            sub.fields(so, s,
                       {{"id", &saml_connection::id},
                        {"name", &saml_connection::name},
                        {"provider", &saml_connection::provider},
                        {"domains", &saml_connection::domains},
                        {"idp_entity_id", &saml_connection::idp_entity_id},
                        {"idp_sso_url", &saml_connection::idp_sso_url},
                        {"idp_certificate", &saml_connection::idp_certificate},
                        {"idp_metadata", &saml_connection::idp_metadata},
                        {"idp_metadata_url", &saml_connection::idp_metadata_url}});
            if (!sub.err && !s.idp_metadata_url.empty() &&
                (!s.idp_metadata_url.starts_with("https://") || s.idp_metadata_url.size() > 2048))
                sub.fail("idp_metadata_url", "expected an https:// URL");
            sub.fields(so, s,
                       {{"allow_idp_initiated", &saml_connection::allow_idp_initiated},
                        {"sign_authn_requests", &saml_connection::sign_authn_requests},
                        {"active", &saml_connection::active}});
            if (auto const* m = so.if_contains("attribute_mapping"); m != nullptr && !sub.err) {
                if (!m->is_object()) {
                    sub.fail("attribute_mapping", "expected an object");
                } else if (sub.only_keys(m->get_object(), {"user_id", "email_address", "first_name", "last_name"})) {
                    sub.fields(m->get_object(), s,
                               {{"user_id", &saml_connection::attr_user_id},
                                {"email_address", &saml_connection::attr_email_address},
                                {"first_name", &saml_connection::attr_first_name},
                                {"last_name", &saml_connection::attr_last_name}});
                }
            }
            for (auto& d : s.domains)
                for (auto& ch : d) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            if (!sub.err &&
                (s.id.size() < 7 || s.id.rfind("samlc_", 0) != 0 || s.id.size() > 64 ||
                 s.id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") !=
                     std::string::npos))
                sub.fail("id", "expected samlc_<letters and digits>");
            if (!sub.err && s.domains.empty()) sub.fail("domains", "at least one email domain");
            if (!sub.err && s.idp_metadata.empty() && s.idp_metadata_url.empty() &&
                (s.idp_entity_id.empty() || s.idp_sso_url.empty() || s.idp_certificate.empty()))
                sub.fail("idp_metadata",
                         "the IdP metadata XML or URL, or idp_entity_id, idp_sso_url and idp_certificate");
            for (auto const& prev : c.saml_connections)
                if (!sub.err && prev.id == s.id) sub.fail("id", "configured twice");
            if (!sub.err && s.name.empty()) s.name = s.id;
        });
}

/// "android_apps": [{package_name, sha256_cert_fingerprints, relations}], "ios_app_ids": ["TEAMID.bundle"]
/// (issue 15: /.well-known/assetlinks.json and apple-app-site-association).
void read_app_links(json_reader& r, json::object const& o, config& c) {
    r.strings(o, "ios_app_ids", c.ios_app_ids);
    for (auto const& id : c.ios_app_ids) {
        auto const dot = id.find('.');
        if (!r.err && (dot == std::string::npos || dot == 0 || dot + 1 == id.size() || id.size() > 255 ||
                       id.find_first_of("\"<> /\\") != std::string::npos))
            r.fail("ios_app_ids", "expected <TEAMID>.<bundle id>");
    }
    objects(r, o, "android_apps", "apps", {"package_name", "sha256_cert_fingerprints", "relations"}, c.android_apps,
            [&](json_reader& sub, json::object const& ao, android_app& app) {
                sub.string(ao, "package_name", app.package_name);
                sub.strings(ao, "sha256_cert_fingerprints", app.sha256_cert_fingerprints);
                sub.strings(ao, "relations", app.relations);
                if (!sub.err &&
                    (app.package_name.empty() || app.package_name.size() > 255 ||
                     app.package_name.find_first_not_of(
                         "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._") != std::string::npos))
                    sub.fail("package_name", "expected an Android package name");
                if (!sub.err && app.sha256_cert_fingerprints.empty())
                    sub.fail("sha256_cert_fingerprints", "at least one");
                for (auto& fp : app.sha256_cert_fingerprints) {
                    for (auto& ch : fp) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
                    bool ok = fp.size() == 95;
                    for (std::size_t k = 0; ok && k < fp.size(); ++k)
                        ok = k % 3 == 2 ? fp[k] == ':' : std::isxdigit(static_cast<unsigned char>(fp[k])) != 0;
                    if (!sub.err && !ok) sub.fail("sha256_cert_fingerprints", "expected 32 colon-separated hex bytes");
                }
                for (auto const& rel : app.relations)
                    if (!sub.err && rel != "delegate_permission/common.handle_all_urls" &&
                        rel != "delegate_permission/common.get_login_creds")
                        sub.fail("relations",
                                 "expected delegate_permission/common.handle_all_urls or .get_login_creds");
            });
}

}  // namespace

std::optional<load_error> apply_json(config& c, std::string_view text) {
    boost::system::error_code ec;
    json::value doc = json::parse(text, ec);
    if (ec) return load_error{"config", "invalid JSON: " + ec.message()};
    if (!doc.is_object()) return load_error{"config", "expected a JSON object"};
    auto const& o = doc.get_object();
    json_reader r;
    for (auto const& kv : o) {
        std::string_view key = kv.key();
        if (auto const* s = find_setting(key)) {
            if (key == "secret_key") {
                if (kv.value().is_array()) {
                    r.strings(o, key, c.secret_keys);
                    continue;
                }
            }
            if (kv.value().is_string()) {
                if (auto bad = s->from_string(c, kv.value().get_string())) r.fail(key, *bad);
            } else if (kv.value().is_bool()) {
                if (auto bad = s->from_string(c, kv.value().get_bool() ? "true" : "false")) r.fail(key, *bad);
            } else if (kv.value().is_number()) {
                auto num = json::serialize(kv.value());
                if (auto bad = s->from_string(c, num)) r.fail(key, *bad);
            } else {
                r.fail(key, "expected a string, number or boolean");
            }
            continue;
        }
        static constexpr std::string_view instance_keys[] = {"application_name",
                                                             "email_address",
                                                             "phone_number",
                                                             "username",
                                                             "first_name",
                                                             "last_name",
                                                             "password",
                                                             "first_factors",
                                                             "second_factors",
                                                             "password_policy",
                                                             "single_session_mode",
                                                             "session_lifetime",
                                                             "inactivity_timeout",
                                                             "token_lifetime",
                                                             "client_cookie_lifetime",
                                                             "allowed_origins",
                                                             "allowed_redirect_origins",
                                                             "jwt_templates",
                                                             "home_url",
                                                             "sign_in_url",
                                                             "sign_up_url",
                                                             "user_profile_url",
                                                             "waitlist_url",
                                                             "branding",
                                                             "legal_consent",
                                                             "preferred_sign_in_strategy",
                                                             "sign_up_mode",
                                                             "attack_protection",
                                                             "max_header_bytes",
                                                             "max_body_bytes",
                                                             "max_field_bytes",
                                                             "header_timeout_ms",
                                                             "idle_timeout_ms",
                                                             "shutdown_grace_ms",
                                                             "max_connections",
                                                             "max_image_bytes",
                                                             "delivery",
                                                             "webhooks",
                                                             "organizations",
                                                             "oauth_providers",
                                                             "reverification_minutes",
                                                             "saml_connections",
                                                             "saml_sp_key",
                                                             "saml_sp_certificate",
                                                             "passkeys",
                                                             "second_factor_required",
                                                             "android_apps",
                                                             "ios_app_ids",
                                                             "oauth_dynamic_client_registration",
                                                             "store",
                                                             "saml_metadata_ca_file",
                                                             "saml_metadata_timeout_ms",
                                                             "saml_metadata_refresh_ms"};
        bool known = false;
        for (auto k : instance_keys) known = known || k == key;
        if (!known) r.fail(key, "unknown setting");
    }
    if (r.err) return r.err;

    r.string(o, "application_name", c.application_name);
    read_attribute(r, o, "email_address", c.email_address);
    read_attribute(r, o, "phone_number", c.phone_number);
    read_attribute(r, o, "username", c.username);
    read_attribute(r, o, "first_name", c.first_name);
    read_attribute(r, o, "last_name", c.last_name);
    read_attribute(r, o, "password", c.password);
    r.strings(o, "first_factors", c.first_factors);
    r.strings(o, "second_factors", c.second_factors);
    r.integer(o, "reverification_minutes", c.reverification_minutes, 10ull * 365 * 24 * 60);
    r.boolean(o, "second_factor_required", c.second_factor_required);
    nested(r, o, "store", {"postgres_url"},
           [&](json_reader& sub, json::object const& p) { sub.string(p, "postgres_url", c.postgres_url); });
    section(r, o, "password_policy", c.passwords,
            {{"min_length", &password_policy::min_length, 72},
             {"max_length", &password_policy::max_length, 256},
             {"require_lowercase", &password_policy::require_lowercase},
             {"require_uppercase", &password_policy::require_uppercase},
             {"require_numbers", &password_policy::require_numbers},
             {"require_special_char", &password_policy::require_special_char},
             {"reject_common", &password_policy::reject_common}});
    r.boolean(o, "single_session_mode", c.single_session_mode);
    r.seconds(o, "session_lifetime", c.session_lifetime);
    r.seconds(o, "inactivity_timeout", c.inactivity_timeout);
    r.seconds(o, "token_lifetime", c.token_lifetime);
    r.seconds(o, "client_cookie_lifetime", c.client_cookie_lifetime);
    r.strings(o, "allowed_origins", c.allowed_origins);
    r.strings(o, "allowed_redirect_origins", c.allowed_redirect_origins);
    if (auto const* v = o.if_contains("jwt_templates")) {
        if (!v->is_array()) {
            r.fail("jwt_templates", "expected an array");
        } else {
            c.jwt_templates.clear();
            for (auto const& e : v->get_array()) {
                if (!e.is_object()) {
                    r.fail("jwt_templates", "expected objects");
                    break;
                }
                json_reader sub{"jwt_templates", {}};
                auto const& t = e.get_object();
                jwt_template jt;
                if (sub.only_keys(t, {"name", "claims", "lifetime", "allowed_clock_skew"})) {
                    sub.string(t, "name", jt.name);
                    if (auto const* cl = t.if_contains("claims")) {
                        if (cl->is_object())
                            jt.claims = json::serialize(*cl);
                        else
                            sub.fail("claims", "expected an object");
                    }
                    sub.integer(t, "lifetime", jt.lifetime, 315360000);
                    sub.integer(t, "allowed_clock_skew", jt.allowed_clock_skew, 300);
                    if (jt.name.empty()) sub.fail("name", "required");
                }
                if (sub.err) {
                    if (!r.err) r.err = sub.err;
                    break;
                }
                c.jwt_templates.push_back(std::move(jt));
            }
        }
    }
    r.string(o, "home_url", c.home_url);
    r.string(o, "sign_in_url", c.sign_in_url);
    r.string(o, "sign_up_url", c.sign_up_url);
    r.string(o, "user_profile_url", c.user_profile_url);
    r.string(o, "waitlist_url", c.waitlist_url);
    section(r, o, "branding", c.branding,
            {{"logo_url", &branding_settings::logo_url},
             {"favicon_url", &branding_settings::favicon_url},
             {"primary_color", &branding_settings::primary_color},
             {"background_color", &branding_settings::background_color},
             {"text_color", &branding_settings::text_color}});
    section(r, o, "legal_consent", c.legal_consent,
            {{"enabled", &legal_consent_settings::enabled},
             {"terms_url", &legal_consent_settings::terms_url},
             {"privacy_policy_url", &legal_consent_settings::privacy_policy_url}});
    r.string(o, "preferred_sign_in_strategy", c.preferred_sign_in_strategy);
    r.string(o, "sign_up_mode", c.sign_up_mode);
    section(r, o, "attack_protection", c.protection,
            {{"max_attempts", &attack_protection::max_attempts, 1000000},
             {"lockout_seconds", &attack_protection::lockout},
             {"code_max_attempts", &attack_protection::code_max_attempts, 100},
             {"code_ttl_seconds", &attack_protection::code_ttl},
             {"rate_per_ip_per_minute", &attack_protection::rate_per_ip_per_minute, 1000000},
             {"rate_per_identifier_per_minute", &attack_protection::rate_per_identifier_per_minute, 1000000}});
    read_organizations(r, o, c.organizations);
    section(r, o, "passkeys", c.passkeys,
            {{"allow_autofill", &passkey_settings::allow_autofill},
             {"show_sign_in_button", &passkey_settings::show_sign_in_button},
             {"satisfies_second_factor", &passkey_settings::satisfies_second_factor},
             {"rp_id", &passkey_settings::rp_id},
             {"timeout_ms", &passkey_settings::timeout_ms, 3'600'000u}});
    r.integer(o, "max_header_bytes", c.max_header_bytes, 1u << 20);
    r.integer(o, "max_body_bytes", c.max_body_bytes, 64u << 20);
    r.integer(o, "max_field_bytes", c.max_field_bytes, 1u << 20);
    r.millis(o, "header_timeout_ms", c.header_timeout);
    r.millis(o, "idle_timeout_ms", c.idle_timeout);
    r.millis(o, "shutdown_grace_ms", c.shutdown_grace);
    r.integer(o, "max_connections", c.max_connections, 1000000);
    r.integer(o, "max_image_bytes", c.max_image_bytes, 64u << 20);
    read_delivery(r, o, c);
    read_oauth_providers(r, o, c);
    read_saml_connections(r, o, c);
    read_app_links(r, o, c);
    r.boolean(o, "oauth_dynamic_client_registration", c.oauth_dynamic_client_registration);
    r.string(o, "saml_sp_key", c.saml_sp_key);
    r.string(o, "saml_sp_certificate", c.saml_sp_certificate);
    r.string(o, "saml_metadata_ca_file", c.saml_metadata_ca_file);
    r.millis(o, "saml_metadata_timeout_ms", c.saml_metadata_timeout);
    {
        auto ms = static_cast<std::uint64_t>(c.saml_metadata_refresh.count());
        r.integer(o, "saml_metadata_refresh_ms", ms, 7ull * 24 * 3600 * 1000);  // up to a week
        c.saml_metadata_refresh = std::chrono::milliseconds(static_cast<long long>(ms));
    }
    if (!r.err && (c.saml_metadata_timeout.count() < 1 || c.saml_metadata_timeout.count() > 120'000))
        r.fail("saml_metadata_timeout_ms", "expected 1 to 120000");
    if (!r.err && c.saml_metadata_refresh.count() < 1000) r.fail("saml_metadata_refresh_ms", "at least 1000");
    // Read once here, so no request reads a file: the settings then hold the PEM text itself.
    for (auto [key, f] :
         {std::pair{"saml_sp_key", &c.saml_sp_key}, std::pair{"saml_sp_certificate", &c.saml_sp_certificate}}) {
        if (f->empty() || f->starts_with("-----BEGIN")) continue;
        std::ifstream in(*f, std::ios::binary);
        std::ostringstream pem;
        pem << in.rdbuf();
        if (!in || pem.str().find("-----BEGIN") == std::string::npos)
            r.fail(key, "cannot read a PEM file at " + *f);
        else
            *f = pem.str();
    }
    return r.err;
}

std::optional<std::pair<std::string, unsigned short>> split_host_port(std::string_view s) {
    std::string_view host;
    std::string_view port;
    if (!s.empty() && s.front() == '[') {
        auto close = s.find(']');
        if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') return std::nullopt;
        host = s.substr(1, close - 1);
        port = s.substr(close + 2);
    } else {
        auto colon = s.rfind(':');
        if (colon == std::string_view::npos) return std::nullopt;
        host = s.substr(0, colon);
        port = s.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) return std::nullopt;
    }
    if (host.empty() || port.empty()) return std::nullopt;
    unsigned short p = 0;
    if (parse_uint<unsigned short>(port, p, 65535)) return std::nullopt;
    return std::pair{std::string(host), p};
}

namespace {

/// `url` after its "http://" or "https://", or nullopt for any other scheme.
std::optional<std::string_view> after_http_scheme(std::string_view url) {
    if (url.starts_with("https://")) return url.substr(8);
    if (url.starts_with("http://")) return url.substr(7);
    return std::nullopt;
}

/// Parses "scheme://host[:port][/path]" loosely; returns host[:port] or an error message.
error_opt check_frontend_api(std::string_view url) {
    auto const after = after_http_scheme(url);
    if (!after) return "must start with http:// or https://";
    std::string_view rest = *after;
    auto slash = rest.find('/');
    auto host = rest.substr(0, slash);
    if (host.empty()) return "missing host";
    if (host.find('_') != std::string_view::npos) return "host must not contain '_' (publishable keys forbid it)";
    if (host.find('.') == std::string_view::npos)
        return "host must contain a '.' (Clerk SDKs reject publishable keys without one; use 127.0.0.1, not localhost)";
    for (char ch : host) {
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                  ch == '-' || ch == ':' || ch == '[' || ch == ']';
        if (!ok) return "host has an invalid character";
    }
    return {};
}

/// A URL the server writes into pages and the environment (branding, legal documents, the app's pages): an
/// absolute http(s) URL with a host, no userinfo, and nothing but printable ASCII without quotes, angle
/// brackets, backslashes or spaces. (What is served is escaped anyway; this keeps the settings honest.)
error_opt check_page_url(std::string_view url) {
    auto const after = after_http_scheme(url);
    if (!after) return "must be an absolute http:// or https:// URL";
    std::string_view rest = *after;
    if (url.size() > 2048) return "longer than 2048 characters";
    for (unsigned char ch : url)
        if (ch <= 0x20 || ch >= 0x7f || ch == '"' || ch == '\'' || ch == '<' || ch == '>' || ch == '\\' || ch == '`')
            return "has a character that is not allowed in a URL here (space, quote, angle bracket, backslash, "
                   "control or non-ASCII)";
    auto const authority = rest.substr(0, rest.find_first_of("/?#"));
    if (authority.empty()) return "missing host";
    if (authority.find('@') != std::string_view::npos) return "must not carry userinfo ('@' before the host)";
    return {};
}

/// #rgb, #rgba, #rrggbb or #rrggbbaa.
error_opt check_color(std::string_view c) {
    bool ok = c.size() >= 4 && c.front() == '#' && (c.size() == 4 || c.size() == 5 || c.size() == 7 || c.size() == 9);
    for (std::size_t i = 1; ok && i < c.size(); ++i)
        ok = (c[i] >= '0' && c[i] <= '9') || (c[i] >= 'a' && c[i] <= 'f') || (c[i] >= 'A' && c[i] <= 'F');
    if (!ok) return "expected a hex colour: #rgb, #rgba, #rrggbb or #rrggbbaa";
    return {};
}

/// A value that goes into a mail header or an SMTP command: no CR, LF or other control characters.
bool header_safe(std::string_view v) {
    for (unsigned char ch : v)
        if (ch < 0x20 || ch == 0x7f) return false;
    return true;
}

/// A webhook signing secret: whsec_ then standard base64 (padding optional) of at least 16 bytes.
error_opt check_webhook_secret(std::string_view s) {
    if (!s.starts_with("whsec_")) return "each secret must start with whsec_";
    auto b = s.substr(6);
    while (!b.empty() && b.back() == '=') b.remove_suffix(1);
    if (b.size() < 22) return "the secret after whsec_ must be base64 of at least 16 bytes";
    for (char ch : b)
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '+' ||
              ch == '/'))
            return "the secret after whsec_ must be standard base64";
    return {};
}

std::optional<load_error> validate_delivery(config const& c) {
    auto const& d = c.delivery;
    auto const& e = d.email;
    if (e.mode != "outbox" && e.mode != "smtp") return load_error{"delivery.email.mode", "expected outbox or smtp"};
    if (e.mode == "smtp") {
        if (e.host.empty() || !header_safe(e.host) || e.host.find_first_of(" /@") != std::string::npos)
            return load_error{"delivery.email.host", "a host name or address is required for smtp"};
        if (e.port == 0) return load_error{"delivery.email.port", "must be 1-65535"};
        if (e.tls != "starttls" && e.tls != "implicit" && e.tls != "none")
            return load_error{"delivery.email.tls", "expected starttls, implicit or none"};
        if (e.from.empty() || !header_safe(e.from) || e.from.find('@') == std::string::npos)
            return load_error{"delivery.email.from",
                              "an address (\"Name <a@b.c>\" or a@b.c) without control characters is required"};
        if (!header_safe(e.user) || !header_safe(e.password))
            return load_error{"delivery.email.user", "user and password must not contain control characters"};
    }
    if (d.sms.mode != "outbox" && d.sms.mode != "twilio")
        return load_error{"delivery.sms.mode", "expected outbox or twilio"};
    if (d.sms.mode == "twilio") {
        if (!after_http_scheme(d.sms.base_url) || !header_safe(d.sms.base_url))
            return load_error{"delivery.sms.base_url", "must be an http:// or https:// URL"};
        if (d.sms.account_sid.empty()) return load_error{"delivery.sms.account_sid", "required for twilio"};
        for (char ch : d.sms.account_sid)
            if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')))
                return load_error{"delivery.sms.account_sid", "letters and digits only"};
        if (d.sms.auth_token.empty() || !header_safe(d.sms.auth_token))
            return load_error{"delivery.sms.auth_token",
                              "required for twilio (auth_token, auth_token_env or auth_token_file)"};
        if (d.sms.from.empty() || !header_safe(d.sms.from))
            return load_error{"delivery.sms.from", "required for twilio"};
    }
    for (auto const& [name, t] :
         {std::pair{"verification_code", &d.verification_code}, std::pair{"password_reset", &d.password_reset},
          std::pair{"email_link", &d.email_link}, std::pair{"invitation", &d.invitation}}) {
        if (!header_safe(t->subject))
            return load_error{std::string("delivery.templates.") + name + ".subject",
                              "must not contain control characters"};
        if (t->text.empty())
            return load_error{std::string("delivery.templates.") + name + ".text", "must not be empty"};
    }
    if (d.sms_code.text.empty()) return load_error{"delivery.templates.sms_code.text", "must not be empty"};
    if (d.max_attempts < 1) return load_error{"delivery.max_attempts", "must be at least 1"};
    if (d.workers < 1) return load_error{"delivery.workers", "must be at least 1"};
    if (d.backoff_base.count() < 1) return load_error{"delivery.backoff_base_ms", "must be at least 1"};
    if (d.backoff_max < d.backoff_base)
        return load_error{"delivery.backoff_max_ms", "must be at least backoff_base_ms"};
    for (std::size_t i = 0; i < c.webhooks.size(); ++i) {
        auto const& w = c.webhooks[i];
        std::string const at = "webhooks[" + std::to_string(i) + "]";
        if (!after_http_scheme(w.url) || !header_safe(w.url) || w.url.find(' ') != std::string::npos)
            return load_error{at + ".url", "must be an http:// or https:// URL"};
        if (w.secrets.empty()) return load_error{at + ".secret", "a whsec_ secret is required"};
        for (auto const& s : w.secrets)
            if (auto bad = check_webhook_secret(s)) return load_error{at + ".secret", *bad};
        for (auto const& ev : w.events)
            if (ev.empty() || ev.find('.') == std::string::npos || !header_safe(ev))
                return load_error{at + ".events", "each event is a type such as user.created: '" + ev + "'"};
    }
    return std::nullopt;
}

/// Reads a secret named by an env var or a file into `out` (a file's one trailing newline is dropped).
std::optional<load_error> resolve_secret(std::string& out, std::string const& env_name, std::string const& file,
                                         env_lookup const& env, std::string const& setting) {
    if (!env_name.empty()) {
        auto v = env(env_name);
        if (!v) return load_error{setting + "_env", "environment variable " + env_name + " is not set"};
        out = *v;
    }
    if (!file.empty()) {
        std::ifstream in(file, std::ios::binary);
        if (!in) return load_error{setting + "_file", "cannot read '" + file + "'"};
        std::ostringstream ss;
        ss << in.rdbuf();
        out = ss.str();
        if (!out.empty() && out.back() == '\n') out.pop_back();
        if (!out.empty() && out.back() == '\r') out.pop_back();
    }
    return std::nullopt;
}

}  // namespace

std::optional<load_error> validate(config const& c) {
    if (!split_host_port(c.listen)) return load_error{"listen", "expected ADDR:PORT, got '" + c.listen + "'"};
    if (!split_host_port(c.backend_listen))
        return load_error{"backend_listen", "expected ADDR:PORT, got '" + c.backend_listen + "'"};
    if (c.data_dir.empty()) return load_error{"data_dir", "must not be empty"};
    if (c.instance_type != "development" && c.instance_type != "production")
        return load_error{"instance", "expected development or production, got '" + c.instance_type + "'"};
    if (!c.frontend_api.empty())
        if (auto bad = check_frontend_api(c.frontend_api)) return load_error{"frontend_api", *bad};
    for (auto const& k : c.secret_keys) {
        bool prefix = k.starts_with("sk_test_") || k.starts_with("sk_live_");
        if (!prefix || k.size() < 8 + 16)
            return load_error{
                "secret_key",
                "each key must be sk_test_... or sk_live_... with at least 16 characters after the prefix"};
        for (char ch : k)
            if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
                  ch == '-'))
                return load_error{"secret_key", "keys may contain only letters, digits, '_' and '-'"};
    }
    if (c.tls_cert.empty() != c.tls_key.empty())
        return load_error{c.tls_cert.empty() ? "tls_cert" : "tls_key", "tls_cert and tls_key go together"};
    if (c.passwords.min_length > c.passwords.max_length)
        return load_error{"password_policy.min_length", "greater than max_length"};
    if (c.token_lifetime.count() < 1) return load_error{"token_lifetime", "must be at least 1 second"};
    if (c.session_lifetime.count() < 60) return load_error{"session_lifetime", "must be at least 60 seconds"};
    if (c.max_header_bytes < 1024) return load_error{"max_header_bytes", "must be at least 1024"};
    if (c.max_body_bytes < 1024) return load_error{"max_body_bytes", "must be at least 1024"};
    if (c.max_image_bytes < 1024) return load_error{"max_image_bytes", "must be at least 1024"};
    if (c.preferred_sign_in_strategy != "password" && c.preferred_sign_in_strategy != "otp")
        return load_error{"preferred_sign_in_strategy", "expected password or otp"};
    if (c.sign_up_mode != "public" && c.sign_up_mode != "restricted" && c.sign_up_mode != "waitlist")
        return load_error{"sign_up_mode", "expected public, restricted or waitlist"};
    static constexpr std::string_view known_factors[] = {"password",
                                                         "email_code",
                                                         "email_link",
                                                         "phone_code",
                                                         "reset_password_email_code",
                                                         "reset_password_phone_code",
                                                         "passkey",
                                                         "web3_metamask_signature",
                                                         "web3_coinbase_wallet_signature",
                                                         "web3_okx_wallet_signature",
                                                         "web3_base_signature"};
    for (auto const& f : c.first_factors) {
        bool ok = false;
        for (auto k : known_factors) ok = ok || f == k;
        if (!ok) return load_error{"first_factors", "unknown strategy '" + f + "'"};
    }
    if (auto const& rp = c.passkeys.rp_id; !rp.empty()) {
        bool ok = rp.size() <= 253 && rp.front() != '.' && rp.back() != '.';
        bool digits_only = true;
        for (char ch : rp) {
            ok = ok && ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.');
            digits_only = digits_only && ((ch >= '0' && ch <= '9') || ch == '.');
        }
        if (!ok || digits_only)
            return load_error{"passkeys.rp_id", "expected a lowercase DNS name (not an IP address)"};
    }
    if (c.passkeys.timeout_ms < 10'000) return load_error{"passkeys.timeout_ms", "must be at least 10000"};
    for (auto const* list : {&c.allowed_origins, &c.allowed_redirect_origins}) {
        char const* name = list == &c.allowed_origins ? "allowed_origins" : "allowed_redirect_origins";
        for (auto const& o : *list) {
            auto const host = after_http_scheme(o);
            bool ok = host && !host->empty() && host->find_first_of("/?#@\\ ") == std::string_view::npos;
            if (!ok)
                return load_error{name,
                                  "each origin is scheme://host[:port] without a path or trailing slash: '" + o + "'"};
        }
    }
    for (auto const& [name, url] :
         {std::pair{"branding.logo_url", &c.branding.logo_url},
          std::pair{"branding.favicon_url", &c.branding.favicon_url},
          std::pair{"legal_consent.terms_url", &c.legal_consent.terms_url},
          std::pair{"legal_consent.privacy_policy_url", &c.legal_consent.privacy_policy_url},
          std::pair{"home_url", &c.home_url}, std::pair{"sign_in_url", &c.sign_in_url},
          std::pair{"sign_up_url", &c.sign_up_url}, std::pair{"user_profile_url", &c.user_profile_url},
          std::pair{"waitlist_url", &c.waitlist_url}})
        if (!url->empty())
            if (auto bad = check_page_url(*url)) return load_error{name, *bad};
    for (auto const& [name, color] : {std::pair{"branding.primary_color", &c.branding.primary_color},
                                      std::pair{"branding.background_color", &c.branding.background_color},
                                      std::pair{"branding.text_color", &c.branding.text_color}})
        if (!color->empty())
            if (auto bad = check_color(*color)) return load_error{name, *bad};
    for (auto const* a : {&c.email_address, &c.phone_number, &c.username})
        if (a->required && !a->enabled) return load_error{"attributes", "a required identifier must be enabled"};
    if (!c.email_address.enabled && !c.phone_number.enabled && !c.username.enabled)
        return load_error{"email_address",
                          "at least one identifier (email_address, phone_number, username) must be enabled"};
    if (auto e = validate_delivery(c)) return e;
    return std::nullopt;
}

load_result<config> load(std::vector<std::string> const& args, env_lookup const& env) {
    // 1. flags (kept aside: they win over everything)
    std::vector<std::pair<setting const*, std::string>> flags;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view a = args[i];
        if (!a.starts_with("--")) return load_error{std::string(a), "unexpected argument"};
        std::string name(a.substr(2));
        std::string value;
        bool has_value = false;
        if (auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name.resize(eq);
            has_value = true;
        }
        for (char& ch : name)
            if (ch == '-') ch = '_';
        setting const* s = find_setting(name);
        if (s == nullptr) return load_error{std::string(a), "unknown flag (see --help)"};
        if (!has_value) {
            if (i + 1 >= args.size()) return load_error{flag_name(s->key), "missing value"};
            value = args[++i];
        }
        flags.emplace_back(s, std::move(value));
    }

    config c;
    // 2. which file? flag > env
    std::string file;
    if (auto v = env("LATCHKEY_CONFIG")) file = *v;
    for (auto const& [s, v] : flags)
        if (s->key == "config") file = v;
    if (!file.empty()) {
        std::ifstream in(file, std::ios::binary);
        if (!in) return load_error{"config", "cannot read '" + file + "'"};
        std::ostringstream ss;
        ss << in.rdbuf();
        if (auto e = apply_json(c, ss.str())) return *e;
        c.config_file = file;
    }
    // 3. env over file
    for (auto const& s : settings) {
        if (auto v = env(s.env)) {
            if (auto bad = s.from_string(c, *v)) return load_error{std::string(s.env), *bad};
        }
    }
    // 4. flags over env
    for (auto const& [s, v] : flags)
        if (auto bad = s->from_string(c, v)) return load_error{flag_name(s->key), *bad};

    if (auto e = resolve_secret(c.delivery.email.password, c.delivery.email.password_env,
                                c.delivery.email.password_file, env, "delivery.email.password"))
        return *e;
    if (auto e = resolve_secret(c.delivery.sms.auth_token, c.delivery.sms.auth_token_env,
                                c.delivery.sms.auth_token_file, env, "delivery.sms.auth_token"))
        return *e;
    if (auto e = validate(c)) return *e;
    return c;
}

std::string usage() {
    std::string u =
        "usage: latchkey serve [flags]     run the FAPI and BAPI listeners\n"
        "       latchkey keys [flags]      print the publishable and secret keys\n"
        "       latchkey keys --rotate     add a new signing key (active from the next start; old ones stay in the "
        "JWKS)\n"
        "       latchkey keys --retire KID remove an old signing key from the JWKS\n"
        "       latchkey users create --email E [--password P] [--username U] [--first-name F] [--last-name L]\n"
        "       latchkey users list [--query Q] [--limit N] [--offset N]     one JSON line per user, newest first\n"
        "       latchkey users export [--out FILE]   every user as JSON lines (with password digests; FILE mode 0600)\n"
        "       latchkey users import [--in FILE]    JSON lines (password_digest+password_hasher: bcrypt, argon2id, "
        "...)\n"
        "       (users commands take --data-dir / --config like serve, and work beside a running server)\n"
        "       latchkey serve --postgres-url URL [--migrate]   PostgreSQL as the shared store, LMDB the local "
        "replica\n"
        "       latchkey migrate --postgres-url URL   apply the PostgreSQL schema migrations\n"
        "       latchkey store copy --from lmdb:DIR|URL --to URL|lmdb:DIR   copy a store into an empty one\n"
        "       latchkey --help | --version\n\n"
        "flags (each also from the environment; precedence: flag > env > config file > default):\n";
    for (auto const& s : settings) {
        std::string f = flag_name(s.key) + " VALUE";
        u += "  " + f + std::string(f.size() < 24 ? 24 - f.size() : 1, ' ') + std::string(s.env) + "\n      " +
             std::string(s.help) + "\n";
    }
    return u;
}

}  // namespace latchkey::conf
