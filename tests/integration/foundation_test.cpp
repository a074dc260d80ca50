// The foundation: health, the environment (checked against the spec's Client.Environment), the JWKS and
// OpenID documents, BAPI secret-key auth, FAPI/BAPI separation, the method override, CORS and preflights,
// and the bad-input table (every malformed request gets a Clerk error envelope and the server keeps serving),
// plus the slow-header and idle keep-alive timeouts.
#include "crypto/encoding.hpp"
#include "tests/common/server_fixture.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <poll.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace latchkey;
using namespace latchkey::test;
using namespace std::chrono_literals;

namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using steady = std::chrono::steady_clock;

// ---- the spec's Client.Environment, as a list of property paths (see the data file's header) ----

struct spec_property {
    std::string type;  ///< object|array|string|boolean|integer|number
    bool required = false;
    bool nullable = false;
    bool open = false;                 ///< object whose keys the spec does not list
    std::vector<std::string> allowed;  ///< enum values ("" = any)
};

std::map<std::string, spec_property> const& environment_spec() {
    static std::map<std::string, spec_property> const spec = [] {
        std::map<std::string, spec_property> out;
        auto file = std::filesystem::path(__FILE__).parent_path() / "data" / "environment_required_paths.txt";
        std::ifstream in(file);
        if (!in) throw std::runtime_error("cannot read " + file.string());
        std::string line;
        while (std::getline(in, line)) {
            if (line.empty() || line.front() == '#') continue;
            std::istringstream ss(line);
            std::string path, type, flags, values;
            ss >> path >> type >> flags >> values;
            spec_property p;
            p.type = type;
            std::istringstream fs(flags);
            for (std::string f; std::getline(fs, f, ',');) {
                p.required = p.required || f == "req";
                p.nullable = p.nullable || f == "null";
                p.open = p.open || f == "open";
            }
            std::istringstream vs(values);
            for (std::string v; std::getline(vs, v, '|');) p.allowed.push_back(v);
            out[path] = p;
        }
        return out;
    }();
    return spec;
}

bool has_type(json::value const& v, std::string const& type) {
    if (type == "object") return v.is_object();
    if (type == "array") return v.is_array();
    if (type == "string") return v.is_string();
    if (type == "boolean") return v.is_bool();
    if (type == "integer") return v.is_int64() || v.is_uint64();
    if (type == "number") return v.is_number();
    return false;
}

json::value const* at_path(json::value const& root, std::string const& path) {
    json::value const* v = &root;
    std::istringstream ss(path);
    for (std::string key; std::getline(ss, key, '.');) {
        if (!v->is_object()) return nullptr;
        v = v->get_object().if_contains(key);
        if (v == nullptr) return nullptr;
    }
    return v;
}

/// Every problem of `env` against the spec: missing required properties, wrong types, values outside an
/// enum, and properties the spec does not list.
std::vector<std::string> spec_problems(json::value const& env) {
    std::vector<std::string> problems;
    auto const& spec = environment_spec();
    for (auto const& [path, p] : spec) {
        auto const* v = at_path(env, path);
        if (v == nullptr) {
            if (p.required) problems.push_back("missing " + path);
            continue;
        }
        if (v->is_null()) {
            if (!p.nullable) problems.push_back(path + " is null");
            continue;
        }
        if (!has_type(*v, p.type)) {
            problems.push_back(path + " is not " + p.type + ": " + json::serialize(*v));
            continue;
        }
        if (!p.allowed.empty() && v->is_string() &&
            std::find(p.allowed.begin(), p.allowed.end(), std::string(v->get_string())) == p.allowed.end())
            problems.push_back(path + " has a value outside its enum: " + json::serialize(*v));
    }
    // No property outside the spec (every schema here is additionalProperties: false).
    auto walk = [&](auto& self, json::object const& o, std::string const& prefix) -> void {
        for (auto const& kv : o) {
            std::string path = prefix.empty() ? std::string(kv.key()) : prefix + "." + std::string(kv.key());
            auto it = spec.find(path);
            if (it == spec.end()) {
                problems.push_back("property not in the spec: " + path);
                continue;
            }
            if (kv.value().is_object() && !it->second.open) self(self, kv.value().get_object(), path);
        }
    };
    if (env.is_object())
        walk(walk, env.get_object(), "");
    else
        problems.push_back("the environment is not an object");
    return problems;
}

void expect_valid_environment(http_result const& r) {
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    BOOST_TEST(r.headers.at("content-type") == "application/json");
    for (auto const& p : spec_problems(r.json)) BOOST_ERROR(p);
}

// ---- error envelopes ----

/// Asserts the exact Clerk error shape, status, code and Content-Type.
void expect_clerk_error(http_result const& r, unsigned status, std::string const& code, std::string const& what) {
    BOOST_TEST(r.status == status, what << ": " << r.status << " " << r.body);
    auto ct = r.headers.find("content-type");
    BOOST_TEST((ct != r.headers.end() && ct->second == "application/json"), what);
    BOOST_TEST_REQUIRE(r.json.is_object(), what << ": not JSON: " << r.body);
    auto const& root = r.json.get_object();
    BOOST_TEST(root.size() == 2u, what);
    auto const* trace = root.if_contains("clerk_trace_id");
    BOOST_TEST((trace != nullptr && trace->is_string() && !trace->get_string().empty()), what);
    auto const* errors = root.if_contains("errors");
    BOOST_TEST_REQUIRE((errors != nullptr && errors->is_array() && errors->get_array().size() == 1u), what);
    auto const& e = errors->get_array()[0];
    BOOST_TEST_REQUIRE(e.is_object(), what);
    auto const& eo = e.get_object();
    BOOST_TEST(eo.size() == 4u, what);
    for (auto const* k : {"code", "message", "long_message"}) {
        auto const* f = eo.if_contains(k);
        BOOST_TEST((f != nullptr && f->is_string() && !f->get_string().empty()), what << ": " << k);
    }
    auto const* meta = eo.if_contains("meta");
    BOOST_TEST((meta != nullptr && meta->is_object()), what);
    BOOST_TEST(r.error_code() == code, what);
}

void expect_healthy(test_server& s, std::string const& after) {
    http_client f(s.fapi_port());
    auto h = f.request(http::verb::get, "/v1/health");
    BOOST_TEST(h.status == 200u, "FAPI health after " << after);
    BOOST_TEST(h.body == R"({"status":"ok"})", after);
    // The BAPI listener serves no health route but must still answer (404) on a new connection.
    http_client b(s.bapi_port());
    auto nf = b.request(http::verb::get, "/v1/health");
    BOOST_TEST(nf.status == 404u, "BAPI after " << after);
}

std::string request_head(std::string const& method, std::string const& target,
                         std::vector<std::string> const& headers = {}) {
    std::string r = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    for (auto const& h : headers) r += h + "\r\n";
    return r;
}

std::string with_body(std::string head, std::string const& content_type, std::string const& body) {
    if (!content_type.empty()) head += "Content-Type: " + content_type + "\r\n";
    head += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    return head;
}

/// Waits until the peer closes `sock` (EOF or reset); returns how long that took, or nullopt after `limit`.
/// Bytes that arrive meanwhile (a 408 reply) are read and discarded.
std::optional<std::chrono::milliseconds> wait_closed(tcp::socket& sock, std::chrono::milliseconds limit) {
    auto t0 = steady::now();
    char buf[4096];
    while (steady::now() - t0 < limit) {
        pollfd pfd{sock.native_handle(), POLLIN, 0};
        int n = ::poll(&pfd, 1, 50);
        if (n > 0) {
            boost::system::error_code ec;
            auto got = sock.read_some(net::buffer(buf), ec);
            if (ec || got == 0) return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t0);
        }
    }
    return std::nullopt;
}

/// A TCP connection to 127.0.0.1:`port`.
tcp::socket connected(net::io_context& ioc, unsigned short port) {
    tcp::socket sock(ioc);
    sock.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    return sock;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(foundation)

BOOST_AUTO_TEST_CASE(health) {
    test_server s;
    http_client c(s.fapi_port());
    for (auto const* path : {"/v1/health", "/v1/proxy-health"}) {
        auto r = c.request(http::verb::get, path);
        BOOST_TEST(r.status == 200u, path);
        BOOST_TEST(r.body == R"({"status":"ok"})", path);
        BOOST_TEST(r.headers["content-type"] == "application/json", path);
    }
}

BOOST_AUTO_TEST_CASE(environment_matches_the_spec) {
    test_server s;
    http_client c(s.fapi_port());
    auto r = c.fapi("GET", "/v1/environment");
    expect_valid_environment(r);
    auto const& env = r.json;
    auto str = [&](std::string const& p) {
        auto const* v = at_path(env, p);
        return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string("<missing>");
    };
    auto flag = [&](std::string const& p) {
        auto const* v = at_path(env, p);
        BOOST_TEST_REQUIRE((v != nullptr && v->is_bool()), p);
        return v->get_bool();
    };
    // What clerk-js needs to load (clerk-wire §7, checklist 6).
    BOOST_TEST(!flag("user_settings.sign_up.captcha_enabled"));
    BOOST_TEST(str("user_settings.sign_up.mode") == "public");
    BOOST_TEST(str("display_config.instance_environment_type") == "development");
    BOOST_TEST(str("display_config.application_name") == s.app().cfg.application_name);
    BOOST_TEST(str("display_config.preferred_sign_in_strategy") == "password");
    BOOST_TEST(at_path(env, "display_config.captcha_public_key")->is_null());
    BOOST_TEST(!flag("auth_config.single_session_mode"));
    BOOST_TEST(flag("auth_config.test_mode"));
    BOOST_TEST(!flag("organization_settings.enabled"));
    BOOST_TEST(!flag("maintenance_mode"));
    BOOST_TEST(!flag("partitioned_cookies"));
    BOOST_TEST(!flag("client_debug_mode"));
    BOOST_TEST(at_path(env, "user_settings.social")->get_object().empty());
    BOOST_TEST(str("auth_config.object") == "auth_config");
    BOOST_TEST(str("auth_config.id").starts_with("aac_"));
    BOOST_TEST(str("display_config.object") == "display_config");
    // Attributes follow the config (defaults: email + password, names optional).
    BOOST_TEST(str("auth_config.email_address") == "required");
    BOOST_TEST(str("auth_config.password") == "required");
    BOOST_TEST(str("auth_config.first_name") == "on");
    BOOST_TEST(str("auth_config.phone_number") == "off");
    BOOST_TEST(flag("user_settings.attributes.email_address.enabled"));
    BOOST_TEST(flag("user_settings.attributes.email_address.used_for_first_factor"));
    BOOST_TEST(flag("user_settings.attributes.email_address.verify_at_sign_up"));
    BOOST_TEST(flag("user_settings.attributes.password.required"));
    BOOST_TEST(!flag("user_settings.attributes.password.used_for_first_factor"));
    BOOST_TEST(!flag("user_settings.attributes.phone_number.enabled"));
    BOOST_TEST(!flag("user_settings.attributes.passkey.enabled"));
    BOOST_TEST(json::serialize(*at_path(env, "auth_config.identification_strategies")) == R"(["email_address"])");
    BOOST_TEST(json::serialize(*at_path(env, "auth_config.first_factors")) ==
               R"(["password","email_code","reset_password_email_code"])");
    BOOST_TEST(json::serialize(*at_path(env, "user_settings.attributes.email_address.first_factors")) ==
               R"(["email_code","reset_password_email_code"])");
    BOOST_TEST(json::serialize(*at_path(env, "user_settings.attributes.email_address.verifications")) ==
               R"(["email_code"])");
    BOOST_TEST(at_path(env, "user_settings.password_settings.min_length")->to_number<int>() == 8);
    BOOST_TEST(at_path(env, "user_settings.password_settings.max_length")->to_number<int>() == 72);
    BOOST_TEST(at_path(env, "user_settings.attack_protection.user_lockout.max_attempts")->to_number<int>() == 100);
    BOOST_TEST(at_path(env, "user_settings.attack_protection.user_lockout.duration_in_minutes")->to_number<int>() ==
               60);
    // Unset URLs point at the Account Portal on the origin browsers reach the FAPI on (no proxy prefix here, so
    // home is the portal's profile page).
    auto origin = s.inst().frontend_api.substr(0, s.inst().frontend_api.find('/', 8));
    BOOST_TEST(str("display_config.home_url") == origin + "/user");
    BOOST_TEST(str("display_config.sign_in_url") == origin + "/sign-in");
    BOOST_TEST(str("display_config.sign_up_url") == origin + "/sign-up");

    // Repeated reads are identical (the body is cached), and the dev "touch" answers the same bare object.
    BOOST_TEST(c.fapi("GET", "/v1/environment").body == r.body);
    auto touch = c.fapi("PATCH", "/v1/environment");
    expect_valid_environment(touch);
    BOOST_TEST(touch.body == r.body);
}

BOOST_AUTO_TEST_CASE(environment_follows_the_config) {
    test_server s([](conf::config& c) {
        c.instance_type = "production";
        c.frontend_api = "https://clerk.example.com";
        c.application_name = "Acme \"Rockets\"";
        c.single_session_mode = true;
        c.sign_up_mode = "restricted";
        c.preferred_sign_in_strategy = "otp";
        c.test_mode = false;
        c.username = {true, true, true, false};
        c.phone_number = {true, false, true, true};
        c.first_name = {false, false, false, false};
        c.first_factors = {"email_code", "phone_code"};
        c.second_factors = {"phone_code"};
        c.passwords.min_length = 12;
        c.passwords.require_numbers = true;
        c.passwords.reject_common = false;
        c.protection.max_attempts = 7;
        c.protection.lockout = std::chrono::seconds(90);
        c.home_url = "https://app.example.com/";
        c.sign_in_url = "https://app.example.com/login";
    });
    http_client c(s.fapi_port());
    auto r = c.request(http::verb::get, "/v1/environment");
    expect_valid_environment(r);
    auto const& env = r.json;
    auto at = [&](std::string const& p) -> json::value const& {
        auto const* v = at_path(env, p);
        BOOST_TEST_REQUIRE(v != nullptr, p);
        return *v;
    };
    BOOST_TEST(at("display_config.instance_environment_type").as_string() == "production");
    BOOST_TEST(!at("display_config.show_devmode_warning").as_bool());
    BOOST_TEST(!at("auth_config.url_based_session_syncing").as_bool());
    BOOST_TEST(at("display_config.application_name").as_string() == "Acme \"Rockets\"");
    BOOST_TEST(at("display_config.preferred_sign_in_strategy").as_string() == "otp");
    BOOST_TEST(at("auth_config.single_session_mode").as_bool());
    BOOST_TEST(!at("auth_config.test_mode").as_bool());
    BOOST_TEST(at("user_settings.sign_up.mode").as_string() == "restricted");
    BOOST_TEST(!at("user_settings.sign_up.captcha_enabled").as_bool());
    BOOST_TEST(at("auth_config.username").as_string() == "required");
    BOOST_TEST(at("auth_config.phone_number").as_string() == "on");
    BOOST_TEST(at("auth_config.first_name").as_string() == "off");
    BOOST_TEST(json::serialize(at("auth_config.identification_strategies")) ==
               R"(["email_address","phone_number","username"])");
    BOOST_TEST(json::serialize(at("auth_config.identification_requirements")) == R"([["email_address"],["username"]])");
    BOOST_TEST(json::serialize(at("auth_config.first_factors")) == R"(["email_code","phone_code"])");
    BOOST_TEST(json::serialize(at("auth_config.second_factors")) == R"(["phone_code"])");
    BOOST_TEST(at("user_settings.attributes.username.enabled").as_bool());
    BOOST_TEST(at("user_settings.attributes.username.used_for_first_factor").as_bool());
    BOOST_TEST(at("user_settings.attributes.phone_number.verify_at_sign_up").as_bool());
    BOOST_TEST(!at("user_settings.attributes.phone_number.required").as_bool());
    BOOST_TEST(at("user_settings.attributes.phone_number.used_for_second_factor").as_bool());
    BOOST_TEST(json::serialize(at("user_settings.attributes.phone_number.first_factors")) == R"(["phone_code"])");
    BOOST_TEST(json::serialize(at("user_settings.attributes.email_address.first_factors")) == R"(["email_code"])");
    BOOST_TEST(!at("user_settings.attributes.first_name.enabled").as_bool());
    BOOST_TEST(at("user_settings.password_settings.min_length").to_number<int>() == 12);
    BOOST_TEST(at("user_settings.password_settings.require_numbers").as_bool());
    BOOST_TEST(at("user_settings.password_settings.disable_hibp").as_bool());
    BOOST_TEST(at("user_settings.attack_protection.user_lockout.max_attempts").to_number<int>() == 7);
    BOOST_TEST(at("user_settings.attack_protection.user_lockout.duration_in_minutes").to_number<int>() == 2);
    BOOST_TEST(at("display_config.home_url").as_string() == "https://app.example.com");
    BOOST_TEST(at("display_config.sign_in_url").as_string() == "https://app.example.com/login");
    // Unnamed in the config: the Account Portal's page on the FAPI origin.
    BOOST_TEST(at("display_config.sign_up_url").as_string() == "https://clerk.example.com/sign-up");
    BOOST_TEST(at("display_config.after_sign_out_all_url").as_string() == "https://app.example.com/login");
}

BOOST_AUTO_TEST_CASE(well_known_jwks_and_openid_configuration) {
    test_server s;
    http_client c(s.fapi_port());
    auto r = c.request(http::verb::get, "/.well-known/jwks.json");
    BOOST_TEST_REQUIRE(r.status == 200u);
    BOOST_TEST(r.headers["content-type"] == "application/json");
    auto const& keys = r.json.at("keys").as_array();
    BOOST_TEST_REQUIRE(!keys.empty());
    auto const& k = keys[0].as_object();
    BOOST_TEST(k.at("kid").as_string() == s.inst().id);
    BOOST_TEST(k.at("kty").as_string() == "RSA");
    BOOST_TEST(k.at("alg").as_string() == "RS256");
    BOOST_TEST(k.at("use").as_string() == "sig");
    BOOST_TEST(k.at("e").as_string() == "AQAB");
    auto n = crypto::base64url_decode(std::string(k.at("n").as_string()));
    BOOST_TEST_REQUIRE(n.has_value());
    BOOST_TEST(n->size() == 256u);                                       // RSA-2048
    BOOST_TEST((static_cast<unsigned char>(n->front()) & 0x80u) != 0u);  // no leading zero byte
    BOOST_TEST(k.at("n").as_string().find('=') == json::string::npos);

    auto oidc = c.request(http::verb::get, "/.well-known/openid-configuration");
    BOOST_TEST_REQUIRE(oidc.status == 200u);
    BOOST_TEST(oidc.headers["content-type"] == "application/json");
    // The OpenID provider's issuer is the FAPI URL it is discovered at (server/api/oauth/provider.cpp).
    BOOST_TEST(oidc.json.at("issuer").as_string() == s.inst().frontend_api);
    BOOST_TEST(oidc.json.at("jwks_uri").as_string() == s.inst().frontend_api + "/.well-known/jwks.json");
    BOOST_TEST(json::serialize(oidc.json.at("id_token_signing_alg_values_supported")) == R"(["RS256"])");
}

BOOST_AUTO_TEST_CASE(bapi_jwks_needs_the_secret_key) {
    test_server s;
    http_client fapi(s.fapi_port());
    auto public_jwks = fapi.request(http::verb::get, "/.well-known/jwks.json");
    BOOST_TEST_REQUIRE(public_jwks.status == 200u);

    http_client b(s.bapi_port());
    b.secret_key = s.secret_key();
    auto ok = b.bapi(http::verb::get, "/v1/jwks");
    BOOST_TEST(ok.status == 200u);
    BOOST_TEST(ok.headers["content-type"] == "application/json");
    BOOST_TEST(json::serialize(ok.json.at("keys")) == json::serialize(public_jwks.json.at("keys")));
    // The raw key without "Bearer " is accepted too (as Clerk does).
    auto raw = b.request(http::verb::get, "/v1/jwks", {}, {{"Authorization", s.secret_key()}});
    BOOST_TEST(raw.status == 200u);

    auto none = b.request(http::verb::get, "/v1/jwks");
    expect_clerk_error(none, 401, "authorization_header_missing", "no Authorization");
    auto empty = b.request(http::verb::get, "/v1/jwks", {}, {{"Authorization", ""}});
    expect_clerk_error(empty, 401, "authorization_header_missing", "empty Authorization");
    std::string wrong = s.secret_key();
    wrong.back() = wrong.back() == 'x' ? 'y' : 'x';
    for (auto const& bad : {"Bearer " + wrong, std::string("Bearer "), std::string("Bearer sk_test_nope"),
                            "Basic " + s.secret_key(), "Bearer " + s.secret_key() + "x"}) {
        auto r = b.request(http::verb::get, "/v1/jwks", {}, {{"Authorization", bad}});
        expect_clerk_error(r, 401, "clerk_key_invalid", bad);
    }
}

BOOST_AUTO_TEST_CASE(fapi_and_bapi_do_not_share_routes) {
    test_server s;
    http_client b(s.bapi_port());
    b.secret_key = s.secret_key();
    for (auto const* path : {"/v1/environment", "/v1/client", "/v1/health", "/.well-known/jwks.json", "/v1/me"})
        expect_clerk_error(b.bapi(http::verb::get, path), 404, "resource_not_found", std::string("BAPI ") + path);
    expect_clerk_error(b.bapi(http::verb::post, "/v1/dev_browser"), 404, "resource_not_found", "BAPI dev_browser");

    http_client f(s.fapi_port());
    for (auto const* path :
         {"/v1/jwks", "/v1/users", "/v1/users/count", "/v1/sessions", "/v1/instance", "/v1/jwt_templates"}) {
        // Even with the secret key: the FAPI listener has no BAPI routes.
        auto r = f.request(http::verb::get, path, {}, {{"Authorization", "Bearer " + s.secret_key()}});
        expect_clerk_error(r, 404, "resource_not_found", std::string("FAPI ") + path);
    }
}

BOOST_AUTO_TEST_CASE(method_override) {
    test_server s;
    http_client c(s.fapi_port());
    // clerk-js's dev touch: POST with _method=PATCH, a form content type and an empty body.
    auto touch = c.request(http::verb::post, "/v1/environment?_method=PATCH&_clerk_js_version=6.40.0", "",
                           {{"Content-Type", "application/x-www-form-urlencoded"}});
    expect_valid_environment(touch);
    // Plain POST is not a route: 405 naming the verbs that are.
    auto post =
        c.request(http::verb::post, "/v1/environment", "", {{"Content-Type", "application/x-www-form-urlencoded"}});
    expect_clerk_error(post, 405, "method_not_allowed", "POST /v1/environment");
    BOOST_TEST(post.headers["allow"] == "GET, PATCH");
    // The override applies to POST only, and only to the verbs clerk-js uses.
    auto get = c.request(http::verb::get, "/v1/environment?_method=DELETE");
    expect_valid_environment(get);
    auto odd = c.request(http::verb::post, "/v1/environment?_method=TRACE", "",
                         {{"Content-Type", "application/x-www-form-urlencoded"}});
    expect_clerk_error(odd, 405, "method_not_allowed", "_method=TRACE");
    auto del = c.request(http::verb::post, "/v1/environment?_method=DELETE", "",
                         {{"Content-Type", "application/x-www-form-urlencoded"}});
    expect_clerk_error(del, 405, "method_not_allowed", "_method=DELETE");
    // The touch authenticates the browser: an unknown dev-browser token is refused.
    auto unknown = c.request(http::verb::post, "/v1/environment?_method=PATCH&__clerk_db_jwt=dvb_unknown", "",
                             {{"Content-Type", "application/x-www-form-urlencoded"}});
    expect_clerk_error(unknown, 401, "dev_browser_unauthenticated", "unknown dev browser");
    // The GET is public: the same token does not matter there.
    BOOST_TEST(c.request(http::verb::get, "/v1/environment?__clerk_db_jwt=dvb_unknown").status == 200u);
}

BOOST_AUTO_TEST_CASE(cors_echoes_allowed_origins_only) {
    test_server s;
    http_client c(s.fapi_port());
    c.origin = "http://localhost:3000";  // dev instance without a list: local origins are allowed
    auto ok = c.request(http::verb::get, "/v1/environment");
    BOOST_TEST(ok.status == 200u);
    BOOST_TEST(ok.headers["access-control-allow-origin"] == "http://localhost:3000");
    BOOST_TEST(ok.headers["access-control-allow-credentials"] == "true");
    auto expose = ok.headers["access-control-expose-headers"];
    for (auto const* h : {"Clerk-Db-Jwt", "x-country", "retry-after", "authorization"})
        BOOST_TEST(expose.find(h) != std::string::npos, h);
    BOOST_TEST(ok.headers["vary"].find("Origin") != std::string::npos);
    // Errors carry CORS too, or the browser could not read them.
    auto err = c.request(http::verb::get, "/v1/nope");
    BOOST_TEST(err.status == 404u);
    BOOST_TEST(err.headers["access-control-allow-origin"] == "http://localhost:3000");

    for (auto const* bad :
         {"https://evil.example.com", "http://localhost.evil.com", "null", "http://127.0.0.1.evil.com:80"}) {
        c.origin = bad;
        auto r = c.request(http::verb::get, "/v1/environment");
        BOOST_TEST(r.status == 200u, bad);  // the public GET still answers; the browser just can't read it
        BOOST_TEST(!r.headers.contains("access-control-allow-origin"), bad);
        BOOST_TEST(!r.headers.contains("access-control-allow-credentials"), bad);
    }
    c.origin.clear();
    BOOST_TEST(!c.request(http::verb::get, "/v1/environment").headers.contains("access-control-allow-origin"));
    // The BAPI is server-to-server: no CORS at all.
    http_client b(s.bapi_port());
    b.secret_key = s.secret_key();
    b.origin = "http://localhost:3000";
    BOOST_TEST(!b.bapi(http::verb::get, "/v1/jwks").headers.contains("access-control-allow-origin"));
}

BOOST_AUTO_TEST_CASE(cors_with_an_explicit_origin_list) {
    test_server s([](conf::config& c) { c.allowed_origins = {"https://app.example.com"}; });
    http_client c(s.fapi_port());
    c.origin = "https://app.example.com";
    BOOST_TEST(c.request(http::verb::get, "/v1/environment").headers["access-control-allow-origin"] ==
               "https://app.example.com");
    // With a list, local origins are no longer implied.
    c.origin = "http://localhost:3000";
    BOOST_TEST(!c.request(http::verb::get, "/v1/environment").headers.contains("access-control-allow-origin"));
    c.origin = "https://app.example.com:8443";
    BOOST_TEST(!c.request(http::verb::get, "/v1/environment").headers.contains("access-control-allow-origin"));
}

BOOST_AUTO_TEST_CASE(options_preflight) {
    test_server s;
    http_client c(s.fapi_port());
    c.origin = "http://localhost:5173";
    auto r = c.request(
        http::verb::options, "/v1/client/sessions/sess_1/tokens", "",
        {{"Access-Control-Request-Method", "POST"}, {"Access-Control-Request-Headers", "authorization, x-mobile"}});
    BOOST_TEST(r.status == 204u);
    BOOST_TEST(r.body.empty());
    BOOST_TEST(r.headers["access-control-allow-origin"] == "http://localhost:5173");
    BOOST_TEST(r.headers["access-control-allow-credentials"] == "true");
    auto methods = r.headers["access-control-allow-methods"];
    for (auto const* m : {"GET", "POST", "PATCH", "DELETE"}) BOOST_TEST(methods.find(m) != std::string::npos, m);
    BOOST_TEST(r.headers["access-control-allow-headers"] == "authorization, x-mobile");
    BOOST_TEST(!r.headers["access-control-max-age"].empty());

    c.origin = "https://evil.example.com";
    auto bad = c.request(http::verb::options, "/v1/client", "", {{"Access-Control-Request-Method", "POST"}});
    BOOST_TEST(bad.status == 204u);
    BOOST_TEST(!bad.headers.contains("access-control-allow-origin"));
    BOOST_TEST(!bad.headers.contains("access-control-allow-methods"));
}

BOOST_AUTO_TEST_CASE(bad_input_table) {
    test_server s;
    auto const& cfg = s.app().cfg;
    std::string const sk = "Authorization: Bearer " + s.secret_key();
    std::string const form = "application/x-www-form-urlencoded";
    std::string const touch = "/v1/environment?_method=PATCH";
    std::string deep = std::string(40, '[') + std::string(40, ']');

    struct row {
        std::string what;
        bool bapi;
        std::string bytes;
        unsigned status;
        std::string code;
        std::string param_name = {};
        std::string allow = {};
    };
    std::vector<row> const rows = {
        {"form: bad %-escape", false, with_body(request_head("POST", touch), form, "a=%zz"), 400,
         "request_body_invalid"},
        {"form: truncated escape", false, with_body(request_head("POST", touch), form, "a=1&b=%4"), 400,
         "request_body_invalid"},
        {"form: escaped invalid UTF-8", false, with_body(request_head("POST", touch), form, "a=%FF%FE"), 400,
         "request_body_invalid"},
        {"form: raw invalid UTF-8", false, with_body(request_head("POST", touch), form, "a=\xC0\xAF"), 400,
         "request_body_invalid"},
        {"form: field too long", false,
         with_body(request_head("POST", touch), form, "a=" + std::string(cfg.max_field_bytes + 1, 'x')), 422,
         "form_param_max_length_exceeded", "body"},
        {"query: bad %-escape", false, request_head("GET", "/v1/environment?x=%zz") + "\r\n", 422,
         "form_param_format_invalid", "query"},
        {"query: invalid UTF-8", false, request_head("GET", "/v1/environment?x=%C3%28") + "\r\n", 422,
         "form_param_format_invalid", "query"},
        {"FAPI: unsupported content type", false, with_body(request_head("POST", touch), "text/plain", "hello"), 415,
         "unsupported_content_type"},
        {"FAPI: unknown route", false, request_head("GET", "/v1/nope") + "\r\n", 404, "resource_not_found"},
        {"FAPI: unknown deep route", false, request_head("GET", "/v1/client/sign_ins/x/y/z") + "\r\n", 404,
         "resource_not_found"},
        {"FAPI: wrong method", false, request_head("DELETE", "/v1/environment") + "\r\n", 405, "method_not_allowed", "",
         "GET, PATCH"},
        {"BAPI: invalid JSON", true,
         with_body(request_head("POST", "/v1/users", {sk}), "application/json", "{not json"), 400,
         "request_body_invalid"},
        {"BAPI: JSON not an object", true,
         with_body(request_head("POST", "/v1/users", {sk}), "application/json", "[1,2]"), 400, "request_body_invalid"},
        {"BAPI: JSON too deep", true,
         with_body(request_head("POST", "/v1/users", {sk}), "application/json", R"({"a":)" + deep + "}"), 400,
         "request_body_invalid"},
        {"BAPI: JSON invalid UTF-8", true,
         with_body(request_head("POST", "/v1/users", {sk}), "application/json", "{\"first_name\":\"\xFF\"}"), 400,
         "request_body_invalid"},
        {"BAPI: JSON string too long", true,
         with_body(request_head("POST", "/v1/users", {sk}), "application/json",
                   R"({"first_name":")" + std::string(cfg.max_field_bytes + 1, 'x') + "\"}"),
         422, "form_param_max_length_exceeded", "body"},
        {"BAPI: unsupported content type", true,
         with_body(request_head("POST", "/v1/users", {sk}), "application/xml", "<user/>"), 415,
         "unsupported_content_type"},
        {"BAPI: unknown route", true, request_head("GET", "/v1/nope", {sk}) + "\r\n", 404, "resource_not_found"},
        {"BAPI: wrong method", true, request_head("PUT", "/v1/users", {sk}) + "\r\n", 405, "method_not_allowed", "",
         "GET, POST"},
        {"BAPI: missing secret key", true, request_head("GET", "/v1/users") + "\r\n", 401,
         "authorization_header_missing"},
        {"BAPI: invalid secret key", true,
         request_head("GET", "/v1/users", {"Authorization: Bearer sk_test_wrongwrongwrong0000"}) + "\r\n", 401,
         "clerk_key_invalid"},
        {"BAPI: key checked before the body", true,
         with_body(request_head("POST", "/v1/users"), "application/json", "{bad"), 401, "authorization_header_missing"},
        {"oversized header", false,
         request_head("GET", "/v1/health", {"X-Big: " + std::string(cfg.max_header_bytes + 100, 'a')}) + "\r\n", 431,
         "request_header_too_large"},
        {"oversized header (BAPI)", true,
         request_head("GET", "/v1/jwks", {sk, "X-Big: " + std::string(cfg.max_header_bytes + 100, 'a')}) + "\r\n", 431,
         "request_header_too_large"},
        // Only the header is sent: the 413 must come from the advertised length, without waiting for the body.
        {"oversized body (advertised)", false,
         request_head("POST", touch,
                      {"Content-Type: " + form, "Content-Length: " + std::to_string(cfg.max_body_bytes + 1)}) +
             "\r\n",
         413, "request_body_too_large"},
        {"oversized body (BAPI)", true,
         request_head("POST", "/v1/users", {sk, "Content-Type: application/json", "Content-Length: 999999999999"}) +
             "\r\n",
         413, "request_body_too_large"},
        {"garbage request line", false, "GARBAGE\r\n\r\n", 400, "malformed_request"},
        {"bad Content-Length", false, request_head("POST", touch, {"Content-Length: abc"}) + "\r\n", 400,
         "malformed_request"},
        {"bad header line", true, "GET /v1/jwks HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n", 400,
         "malformed_request"},
    };

    for (auto const& r : rows) {
        auto port = r.bapi ? s.bapi_port() : s.fapi_port();
        auto t0 = steady::now();
        auto res = raw_exchange(port, r.bytes, 5s);
        auto took = steady::now() - t0;
        expect_clerk_error(res, r.status, r.code, r.what);
        if (!r.param_name.empty()) BOOST_TEST(res.param_name() == r.param_name, r.what);
        if (!r.allow.empty()) BOOST_TEST(res.headers["allow"] == r.allow, r.what);
        // Nothing here should make the server wait for a timeout (header_timeout is 2 s in the fixture).
        BOOST_TEST((took < 1500ms),
                   r.what << " took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
        expect_healthy(s, r.what);
    }
}

BOOST_AUTO_TEST_CASE(oversized_body_is_refused_without_reading_it) {
    test_server s;
    auto const& cfg = s.app().cfg;
    net::io_context ioc;
    auto sock = connected(ioc, s.fapi_port());
    std::string head = request_head("POST", "/v1/environment?_method=PATCH",
                                    {"Content-Type: application/x-www-form-urlencoded",
                                     "Content-Length: " + std::to_string(cfg.max_body_bytes * 4)}) +
                       "\r\n";
    net::write(sock, net::buffer(head));
    // Start sending the body; the server answers 413 from the header alone and closes, so the answer arrives
    // although most of the body is never sent.
    std::string chunk(64 * 1024, 'a');
    boost::system::error_code ec;
    net::write(sock, net::buffer(chunk), ec);
    std::string got;
    char buf[4096];
    auto t0 = steady::now();
    while (steady::now() - t0 < 3s) {
        auto n = sock.read_some(net::buffer(buf), ec);
        got.append(buf, n);
        if (ec) break;
    }
    BOOST_TEST(got.starts_with("HTTP/1.1 413"), got.substr(0, 80));
    BOOST_TEST(got.find("request_body_too_large") != std::string::npos);
    BOOST_TEST(got.find("Content-Type: application/json\r\n") != std::string::npos);
    expect_healthy(s, "oversized body");
}

BOOST_AUTO_TEST_CASE(slow_header_is_cut_off_after_header_timeout) {
    test_server s([](conf::config& c) { c.header_timeout = 400ms; });
    net::io_context ioc;

    // Half a header, then silence.
    auto half = connected(ioc, s.fapi_port());
    net::write(half, net::buffer(std::string("GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")));
    auto closed = wait_closed(half, 5s);
    BOOST_TEST_REQUIRE(closed.has_value(), "the server kept a stalled half header open");
    BOOST_TEST(closed->count() >= 300);
    BOOST_TEST(closed->count() < 2500);

    // Trickling a byte at a time does not extend the deadline (it counts from the first byte).
    auto drip = connected(ioc, s.fapi_port());
    std::string text = "GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + std::string(200, 'a');
    auto t0 = steady::now();
    bool cut = false;
    for (char ch : text) {
        boost::system::error_code ec;
        net::write(drip, net::buffer(&ch, 1), ec);
        if (ec || wait_closed(drip, 100ms)) {
            cut = true;
            break;
        }
    }
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t0);
    BOOST_TEST(cut, "a trickling client was never cut off");
    BOOST_TEST(took.count() < 2500);
    expect_healthy(s, "slow header");
}

BOOST_AUTO_TEST_CASE(idle_keep_alive_is_closed_after_idle_timeout) {
    test_server s([](conf::config& c) { c.idle_timeout = 400ms; });
    net::io_context ioc;
    auto sock = connected(ioc, s.fapi_port());
    std::string const req = "GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    auto read_response = [&] {
        std::string got;
        char buf[4096];
        while (got.find("{\"status\":\"ok\"}") == std::string::npos) {
            boost::system::error_code ec;
            auto n = sock.read_some(net::buffer(buf), ec);
            if (ec) break;
            got.append(buf, n);
        }
        return got;
    };
    // Keep-alive works within the idle window...
    net::write(sock, net::buffer(req));
    BOOST_TEST(read_response().starts_with("HTTP/1.1 200"));
    std::this_thread::sleep_for(150ms);
    net::write(sock, net::buffer(req));
    BOOST_TEST(read_response().starts_with("HTTP/1.1 200"));
    // ...and the connection is closed once it has been idle for idle_timeout.
    auto closed = wait_closed(sock, 5s);
    BOOST_TEST_REQUIRE(closed.has_value(), "an idle keep-alive connection was never closed");
    BOOST_TEST(closed->count() >= 300);
    BOOST_TEST(closed->count() < 2500);
    expect_healthy(s, "idle timeout");
}

BOOST_AUTO_TEST_SUITE_END()
