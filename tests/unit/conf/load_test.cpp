// conf::load: defaults, precedence (flag > env > file > default), flag forms, JSON blocks, and every
// validation rule naming the setting it concerns.
#include "conf/load.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

using namespace latchkey::conf;

namespace {

using args_t = std::vector<std::string>;
using env_map = std::map<std::string, std::string, std::less<>>;

env_lookup fake_env(env_map vars) {
    return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
        if (auto it = vars.find(name); it != vars.end()) return it->second;
        return std::nullopt;
    };
}

env_lookup no_env() { return fake_env({}); }

/// A JSON config file in the temp dir, removed on destruction.
struct temp_file {
    explicit temp_file(std::string const& text) {
        std::random_device rd;
        path = (std::filesystem::temp_directory_path() /
                ("latchkey-conf-test-" + std::to_string(rd()) + std::to_string(rd()) + ".json"))
                   .string();
        std::ofstream(path, std::ios::binary) << text;
    }
    ~temp_file() {
        std::error_code ec;
        std::filesystem::remove(path, ec);
    }
    temp_file(temp_file const&) = delete;
    temp_file& operator=(temp_file const&) = delete;
    std::string path;
};

config load_ok(args_t const& args, env_lookup const& env = no_env()) {
    auto r = load(args, env);
    if (!r) BOOST_FAIL("unexpected load error: " + r.error().what());
    return *r;
}

load_error load_err(args_t const& args, env_lookup const& env = no_env()) {
    auto r = load(args, env);
    if (r) BOOST_FAIL("load succeeded but an error was expected");
    return r.error();
}

/// apply_json onto defaults, then validate; the first error or nullopt.
std::optional<load_error> json_problem(std::string const& text) {
    config c;
    if (auto e = apply_json(c, text)) return e;
    return validate(c);
}

config json_ok(std::string const& text) {
    config c;
    if (auto e = apply_json(c, text)) BOOST_FAIL("apply_json: " + e->what());
    if (auto e = validate(c)) BOOST_FAIL("validate: " + e->what());
    return c;
}

std::string const good_key = "sk_test_0123456789abcdef";
std::string const good_key2 = "sk_live_ABCDEFGHIJKLMNOP-_xy";

/// A config document and the setting its problem must name.
struct json_setting {
    char const* json;
    char const* setting;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(conf_load)

BOOST_AUTO_TEST_CASE(oauth_providers_are_read_and_checked) {
    auto c = json_ok(R"({"oauth_providers":[{"strategy":"oauth_custom_acme","issuer":"https://id.acme.example",
        "client_id":"cid","client_secret":"sec","scopes":["openid","email"],"timeout_ms":2500,"allow_http":true}]})");
    BOOST_TEST_REQUIRE(c.oauth_providers.size() == 1u);
    auto const& p = c.oauth_providers[0];
    BOOST_TEST(p.strategy == "oauth_custom_acme");
    BOOST_TEST(p.name == "custom_acme");  // defaults to the strategy without oauth_
    BOOST_TEST(p.scopes.size() == 2u);
    BOOST_TEST(p.timeout.count() == 2500);
    BOOST_TEST(p.allow_http);
    auto bad = [](std::string const& text) { return json_problem(text).has_value(); };
    BOOST_TEST(bad(R"({"oauth_providers":[{"strategy":"google","issuer":"https://x","client_id":"c"}]})"));
    BOOST_TEST(bad(R"({"oauth_providers":[{"strategy":"oauth_google","issuer":"https://x"}]})"));
    BOOST_TEST(bad(R"({"oauth_providers":[{"strategy":"oauth_google","client_id":"c"}]})"));
    BOOST_TEST(
        bad(R"({"oauth_providers":[{"strategy":"oauth_google","client_id":"c","issuer":"https://x","nope":1}]})"));
    BOOST_TEST(bad(R"({"oauth_providers":[{"strategy":"oauth_google","client_id":"c","issuer":"https://x"},
                                           {"strategy":"oauth_google","client_id":"d","issuer":"https://y"}]})"));
}

BOOST_AUTO_TEST_CASE(saml_connections_are_read_and_checked) {
    auto c = json_ok(R"({"saml_connections":[{"id":"samlc_acme","name":"Acme","domains":["Acme.Example"],
        "idp_entity_id":"https://idp","idp_sso_url":"https://idp/sso","idp_certificate":"MIIB",
        "attribute_mapping":{"email_address":"mail","first_name":"givenName"},"allow_idp_initiated":true,
        "sign_authn_requests":true}],
        "saml_sp_key":"-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n"})");
    BOOST_TEST_REQUIRE(c.saml_connections.size() == 1u);
    auto const& s = c.saml_connections[0];
    BOOST_TEST(s.id == "samlc_acme");
    BOOST_TEST(s.domains.at(0) == "acme.example");  // lowercased
    BOOST_TEST(s.attr_email_address == "mail");
    BOOST_TEST(s.attr_first_name == "givenName");
    BOOST_TEST(s.provider == "saml_custom");
    BOOST_TEST(s.allow_idp_initiated);
    BOOST_TEST(s.sign_authn_requests);
    BOOST_TEST(s.active);
    BOOST_TEST(c.saml_sp_key.starts_with("-----BEGIN PRIVATE KEY-----"));  // PEM text is kept as it is
    auto bad = [](std::string const& text) { return json_problem(text).has_value(); };
    BOOST_TEST(bad(R"({"saml_connections":[{"id":"acme","domains":["a.b"],"idp_metadata":"<x/>"}]})"));
    BOOST_TEST(bad(R"({"saml_connections":[{"id":"samlc_a","domains":[],"idp_metadata":"<x/>"}]})"));
    BOOST_TEST(bad(R"({"saml_connections":[{"id":"samlc_a","domains":["a.b"],"idp_sso_url":"https://x"}]})"));
    BOOST_TEST(bad(R"({"saml_connections":[{"id":"samlc_a","domains":["a.b"],"idp_metadata":"<x/>","nope":1}]})"));
    BOOST_TEST(bad(R"({"saml_connections":[{"id":"samlc_a","domains":["a.b"],"idp_metadata":"<x/>"},
                                          {"id":"samlc_a","domains":["c.d"],"idp_metadata":"<x/>"}]})"));
    BOOST_TEST(bad(R"({"saml_sp_key":"/nonexistent/sp.key"})"));  // a file that cannot be read stops the start
}

BOOST_AUTO_TEST_CASE(store_postgres_url_is_read) {
    // issue 16: LMDB alone by default; "store": {"postgres_url"} in the file, the flag or the env picks PostgreSQL.
    BOOST_TEST(config{}.postgres_url.empty());
    BOOST_TEST(json_ok(R"({"store":{"postgres_url":"postgresql://u@db/x"}})").postgres_url == "postgresql://u@db/x");
    BOOST_TEST(json_problem(R"({"store":{"postgres_url":5}})").has_value());
    auto unknown = json_problem(R"({"store":{"postgres":"x"}})");
    BOOST_TEST_REQUIRE(unknown.has_value());
    BOOST_TEST(unknown->what().find("postgres") != std::string::npos, unknown->what());
    auto env = load_ok({}, fake_env({{"LATCHKEY_POSTGRES_URL", "postgresql://from/env"}}));
    BOOST_TEST(env.postgres_url == "postgresql://from/env");
    auto flag = load_ok({"--postgres-url", "postgresql://from/flag"},
                        fake_env({{"LATCHKEY_POSTGRES_URL", "postgresql://from/env"}}));
    BOOST_TEST(flag.postgres_url == "postgresql://from/flag");
}

BOOST_AUTO_TEST_CASE(second_factor_required_is_read) {
    BOOST_TEST(!config{}.second_factor_required);
    BOOST_TEST(json_ok(R"({"second_factor_required":true})").second_factor_required);
    BOOST_TEST(json_problem(R"({"second_factor_required":"yes"})").has_value());
}

BOOST_AUTO_TEST_CASE(defaults_without_flags_env_or_file) {
    auto c = load_ok({});
    BOOST_TEST(c.listen == "127.0.0.1:8080");
    BOOST_TEST(c.backend_listen == "127.0.0.1:8081");
    BOOST_TEST(c.data_dir == "./.latchkey/data");
    BOOST_TEST(c.config_file.empty());
    BOOST_TEST(c.secret_keys.empty());
    BOOST_TEST(c.frontend_api.empty());
    BOOST_TEST(c.instance_type == "development");
    BOOST_TEST(c.test_mode);
    BOOST_TEST(c.durable);
    BOOST_TEST(c.access_log);
    BOOST_TEST(c.threads == 0u);
    BOOST_TEST(c.max_header_bytes == 16u * 1024);
    BOOST_TEST(c.max_body_bytes == 1024u * 1024);
    BOOST_TEST(c.max_field_bytes == 8u * 1024);
    BOOST_TEST(c.header_timeout.count() == 10'000);
    BOOST_TEST(c.idle_timeout.count() == 75'000);
    BOOST_TEST(c.email_address.enabled);
    BOOST_TEST(c.email_address.required);
    BOOST_TEST(c.email_address.used_for_first_factor);
    BOOST_TEST(!c.phone_number.enabled);
    BOOST_TEST(!c.username.enabled);
    BOOST_TEST(c.password.enabled);
    BOOST_TEST((c.first_factors == std::vector<std::string>{"password", "email_code", "reset_password_email_code"}));
    BOOST_TEST(c.passwords.min_length == 8u);
    BOOST_TEST(c.passwords.reject_common);
    BOOST_TEST(c.sign_up_mode == "public");
    BOOST_TEST(c.preferred_sign_in_strategy == "password");
    BOOST_TEST(c.token_lifetime.count() == 60);
    BOOST_TEST(c.protection.code_max_attempts == 3u);
}

BOOST_AUTO_TEST_CASE(precedence_flag_over_env_over_file_over_default) {
    temp_file f(R"({"listen":"127.0.0.1:1111","data_dir":"/file/dir","test_mode":true,"threads":3,
                    "secret_key":"sk_test_fromthefile000000","application_name":"from file"})");
    env_map env{{"LATCHKEY_CONFIG", f.path},
                {"LATCHKEY_LISTEN", "127.0.0.1:2222"},
                {"LATCHKEY_DATA_DIR", "/env/dir"},
                {"LATCHKEY_TEST_MODE", "false"},
                {"LATCHKEY_SECRET_KEY", "sk_test_fromtheenv0000000"}};
    args_t flags{"--listen=127.0.0.1:3333", "--test-mode", "true", "--secret-key=sk_test_fromtheflag000000"};

    auto all = load_ok(flags, fake_env(env));
    BOOST_TEST(all.listen == "127.0.0.1:3333");  // flag
    BOOST_TEST(all.test_mode);                   // flag beats env's false
    BOOST_TEST(all.secret_keys == std::vector<std::string>{"sk_test_fromtheflag000000"});
    BOOST_TEST(all.data_dir == "/env/dir");  // env beats file
    BOOST_TEST(all.threads == 3u);           // file beats default
    BOOST_TEST(all.application_name == "from file");
    BOOST_TEST(all.backend_listen == "127.0.0.1:8081");  // default
    BOOST_TEST(all.config_file == f.path);

    auto no_flags = load_ok({}, fake_env(env));
    BOOST_TEST(no_flags.listen == "127.0.0.1:2222");
    BOOST_TEST(!no_flags.test_mode);
    BOOST_TEST(no_flags.secret_keys == std::vector<std::string>{"sk_test_fromtheenv0000000"});

    auto file_only = load_ok({}, fake_env({{"LATCHKEY_CONFIG", f.path}}));
    BOOST_TEST(file_only.listen == "127.0.0.1:1111");
    BOOST_TEST(file_only.data_dir == "/file/dir");
    BOOST_TEST(file_only.test_mode);
    BOOST_TEST(file_only.secret_keys == std::vector<std::string>{"sk_test_fromthefile000000"});
}

BOOST_AUTO_TEST_CASE(config_flag_beats_config_env) {
    temp_file env_file(R"({"application_name":"env file"})");
    temp_file flag_file(R"({"application_name":"flag file"})");
    auto c = load_ok({"--config", flag_file.path}, fake_env({{"LATCHKEY_CONFIG", env_file.path}}));
    BOOST_TEST(c.application_name == "flag file");
    BOOST_TEST(c.config_file == flag_file.path);
}

BOOST_AUTO_TEST_CASE(both_flag_forms) {
    auto eq = load_ok({"--listen=0.0.0.0:9000", "--backend-listen=127.0.0.1:9001", "--threads=4"});
    auto sp = load_ok({"--listen", "0.0.0.0:9000", "--backend-listen", "127.0.0.1:9001", "--threads", "4"});
    for (auto const* c : {&eq, &sp}) {
        BOOST_TEST(c->listen == "0.0.0.0:9000");
        BOOST_TEST(c->backend_listen == "127.0.0.1:9001");
        BOOST_TEST(c->threads == 4u);
    }
    // Underscores work in flag names too, and a value may contain '='.
    auto u = load_ok({"--data_dir=/a=b"});
    BOOST_TEST(u.data_dir == "/a=b");
}

BOOST_AUTO_TEST_CASE(flag_errors_name_the_flag) {
    auto unknown = load_err({"--bogus=1"});
    BOOST_TEST(unknown.setting == "--bogus=1");
    BOOST_TEST(unknown.message.find("unknown flag") != std::string::npos);

    auto missing = load_err({"--listen"});
    BOOST_TEST(missing.setting == "--listen");
    BOOST_TEST(missing.message == "missing value");

    auto positional = load_err({"serve"});
    BOOST_TEST(positional.setting == "serve");

    auto bad_bool = load_err({"--test-mode=maybe"});
    BOOST_TEST(bad_bool.setting == "--test-mode");
    BOOST_TEST(bad_bool.message == "expected true or false");

    auto bad_int = load_err({"--threads", "-1"});
    BOOST_TEST(bad_int.setting == "--threads");
    BOOST_TEST(bad_int.message == "expected a non-negative integer");

    auto too_big = load_err({"--threads=100000"});
    BOOST_TEST(too_big.setting == "--threads");
    BOOST_TEST(too_big.message == "value too large");
    BOOST_TEST(too_big.what() == "--threads: value too large");
}

BOOST_AUTO_TEST_CASE(env_errors_name_the_variable) {
    auto e = load_err({}, fake_env({{"LATCHKEY_THREADS", "lots"}}));
    BOOST_TEST(e.setting == "LATCHKEY_THREADS");
    auto b = load_err({}, fake_env({{"LATCHKEY_DURABLE", "sometimes"}}));
    BOOST_TEST(b.setting == "LATCHKEY_DURABLE");
    // Every spelling of a boolean.
    std::pair<char const*, bool> const spellings[] = {{"true", true},   {"1", true},  {"yes", true}, {"on", true},
                                                      {"false", false}, {"0", false}, {"no", false}, {"off", false}};
    for (auto const& [text, want] : spellings) {
        auto c = load_ok({}, fake_env({{"LATCHKEY_DURABLE", text}}));
        BOOST_TEST(c.durable == want, "LATCHKEY_DURABLE=" << text);
    }
}

BOOST_AUTO_TEST_CASE(secret_key_list_and_format) {
    auto two = load_ok({}, fake_env({{"LATCHKEY_SECRET_KEY", good_key + ", " + good_key2 + ","}}));
    BOOST_TEST((two.secret_keys == std::vector<std::string>{good_key, good_key2}));

    auto arr = json_ok(R"({"secret_key":[")" + good_key + R"(",")" + good_key2 + R"("]})");
    BOOST_TEST((arr.secret_keys == std::vector<std::string>{good_key, good_key2}));

    for (std::string bad : {"sk_test_short", "pk_test_0123456789abcdef", "0123456789abcdef0123456789",
                            "sk_test_0123456789abcdef!", "sk_test_0123456789 abcdef", "sk_live_"}) {
        auto e = load_err({"--secret-key=" + bad});
        BOOST_TEST(e.setting == "secret_key", bad);
    }
    // The second key of a list is checked too.
    auto e = load_err({"--secret-key=" + good_key + ",sk_test_nope"});
    BOOST_TEST(e.setting == "secret_key");
}

BOOST_AUTO_TEST_CASE(missing_or_bad_config_file) {
    auto missing = load_err({"--config=/nonexistent/latchkey/config.json"});
    BOOST_TEST(missing.setting == "config");
    BOOST_TEST(missing.message.find("/nonexistent/latchkey/config.json") != std::string::npos);

    auto missing_env = load_err({}, fake_env({{"LATCHKEY_CONFIG", "/nonexistent/env.json"}}));
    BOOST_TEST(missing_env.setting == "config");

    temp_file broken("{ not json");
    auto bad = load_err({"--config", broken.path});
    BOOST_TEST(bad.setting == "config");
    BOOST_TEST(bad.message.find("invalid JSON") != std::string::npos);

    temp_file array("[1,2]");
    BOOST_TEST(load_err({"--config", array.path}).setting == "config");

    // A file error is reported even when flags would be fine.
    temp_file unknown(R"({"colour":"blue"})");
    auto u = load_err({"--config", unknown.path, "--threads=2"});
    BOOST_TEST(u.setting == "colour");
}

BOOST_AUTO_TEST_CASE(unknown_json_keys_are_named) {
    auto top = json_problem(R"({"listen":"127.0.0.1:1","no_such_setting":true})");
    BOOST_TEST_REQUIRE(top.has_value());
    BOOST_TEST(top->setting == "no_such_setting");
    BOOST_TEST(top->message == "unknown setting");

    auto nested = json_problem(R"({"password_policy":{"min_length":10,"entropy":3}})");
    BOOST_TEST_REQUIRE(nested.has_value());
    BOOST_TEST(nested->setting == "password_policy.entropy");

    auto attr = json_problem(R"({"email_address":{"enabled":true,"colour":"red"}})");
    BOOST_TEST_REQUIRE(attr.has_value());
    BOOST_TEST(attr->setting == "email_address.colour");

    auto attack = json_problem(R"({"attack_protection":{"lockout":5}})");
    BOOST_TEST_REQUIRE(attack.has_value());
    BOOST_TEST(attack->setting == "attack_protection.lockout");

    auto tmpl = json_problem(R"({"jwt_templates":[{"name":"a","ttl":5}]})");
    BOOST_TEST_REQUIRE(tmpl.has_value());
    BOOST_TEST(tmpl->setting == "jwt_templates.ttl");
}

BOOST_AUTO_TEST_CASE(wrong_json_types_are_named) {
    json_setting const rows[] = {
        {R"({"single_session_mode":"yes"})", "single_session_mode"},
        {R"({"application_name":42})", "application_name"},
        {R"({"first_factors":"password"})", "first_factors"},
        {R"({"first_factors":["password",1]})", "first_factors"},
        {R"({"allowed_origins":{"a":1}})", "allowed_origins"},
        {R"({"email_address":true})", "email_address"},
        {R"({"email_address":{"enabled":"true"}})", "email_address.enabled"},
        {R"({"password_policy":[]})", "password_policy"},
        {R"({"password_policy":{"min_length":-1}})", "password_policy.min_length"},
        {R"({"password_policy":{"min_length":73}})", "password_policy.min_length"},
        {R"({"password_policy":{"min_length":8.5}})", "password_policy.min_length"},
        {R"({"attack_protection":"strict"})", "attack_protection"},
        {R"({"attack_protection":{"max_attempts":"5"}})", "attack_protection.max_attempts"},
        {R"({"session_lifetime":"1h"})", "session_lifetime"},
        {R"({"token_lifetime":-5})", "token_lifetime"},
        {R"({"max_header_bytes":2097152})", "max_header_bytes"},
        {R"({"header_timeout_ms":true})", "header_timeout_ms"},
        {R"({"threads":"many"})", "threads"},
        {R"({"threads":-2})", "threads"},
        {R"({"test_mode":"perhaps"})", "test_mode"},
        {R"({"listen":["127.0.0.1:1"]})", "listen"},
        {R"({"jwt_templates":{}})", "jwt_templates"},
        {R"({"jwt_templates":["x"]})", "jwt_templates"},
        {R"({"jwt_templates":[{"name":"a","claims":"{}"}]})", "jwt_templates.claims"},
        {R"({"jwt_templates":[{"claims":{}}]})", "jwt_templates.name"},
        {R"({"jwt_templates":[{"name":"a","lifetime":"60"}]})", "jwt_templates.lifetime"},
    };
    for (auto const& r : rows) {
        auto e = json_problem(r.json);
        BOOST_TEST_REQUIRE(e.has_value(), r.json);
        BOOST_TEST(e->setting == r.setting, r.json << " -> " << e->what());
    }
    config c;
    auto not_object = apply_json(c, "42");
    BOOST_TEST_REQUIRE(not_object.has_value());
    BOOST_TEST(not_object->setting == "config");
}

BOOST_AUTO_TEST_CASE(json_scalars_for_process_settings) {
    auto c = json_ok(R"({"threads":4,"hash_threads":2,"test_mode":false,"durable":false,"map_size":1048576,
                         "instance":"production","frontend_api":"https://clerk.example.com",
                         "header_timeout_ms":1500,"idle_timeout_ms":2500,"shutdown_grace_ms":100,
                         "max_header_bytes":4096,"max_body_bytes":65536,"max_field_bytes":1000,
                         "max_connections":77})");
    BOOST_TEST(c.threads == 4u);
    BOOST_TEST(c.hash_threads == 2u);
    BOOST_TEST(!c.test_mode);
    BOOST_TEST(!c.durable);
    BOOST_TEST(c.map_size == 1048576u);
    BOOST_TEST(c.instance_type == "production");
    BOOST_TEST(c.frontend_api == "https://clerk.example.com");
    BOOST_TEST(c.header_timeout.count() == 1500);
    BOOST_TEST(c.idle_timeout.count() == 2500);
    BOOST_TEST(c.shutdown_grace.count() == 100);
    BOOST_TEST(c.max_header_bytes == 4096u);
    BOOST_TEST(c.max_body_bytes == 65536u);
    BOOST_TEST(c.max_field_bytes == 1000u);
    BOOST_TEST(c.max_connections == 77u);
}

BOOST_AUTO_TEST_CASE(listen_addresses) {
    for (std::string bad : {"nonsense", "127.0.0.1", "127.0.0.1:", ":8080", "127.0.0.1:99999", "127.0.0.1:80x",
                            "::1:8080", "[::1]8080", "[::1:8080"}) {
        auto e = load_err({"--listen=" + bad});
        BOOST_TEST(e.setting == "listen", bad);
        BOOST_TEST(e.message.find(bad) != std::string::npos, bad);
    }
    BOOST_TEST(load_err({"--backend-listen=x"}).setting == "backend_listen");
    BOOST_TEST(load_ok({"--listen=[::1]:0"}).listen == "[::1]:0");

    auto v6 = split_host_port("[::1]:8080");
    BOOST_TEST_REQUIRE(v6.has_value());
    BOOST_TEST(v6->first == "::1");
    BOOST_TEST(v6->second == 8080);
    auto v4 = split_host_port("0.0.0.0:0");
    BOOST_TEST_REQUIRE(v4.has_value());
    BOOST_TEST(v4->first == "0.0.0.0");
    BOOST_TEST(v4->second == 0);
    BOOST_TEST(split_host_port("localhost:65535").has_value());
    BOOST_TEST(!split_host_port("localhost:65536").has_value());
    BOOST_TEST(!split_host_port("").has_value());
}

BOOST_AUTO_TEST_CASE(instance_type) {
    BOOST_TEST(load_ok({"--instance=production"}).instance_type == "production");
    BOOST_TEST(load_ok({}, fake_env({{"LATCHKEY_INSTANCE", "development"}})).instance_type == "development");
    for (std::string bad : {"staging", "Production", "", "prod"}) {
        auto e = load_err({"--instance=" + bad});
        BOOST_TEST(e.setting == "instance", bad);
    }
}

BOOST_AUTO_TEST_CASE(frontend_api_rules) {
    for (std::string ok : {"https://clerk.example.com", "http://127.0.0.1:8080", "http://127.0.0.1:8080/__clerk",
                           "https://latchkey-local.accounts.dev"}) {
        auto r = load({"--frontend-api=" + ok}, no_env());
        BOOST_TEST(r.has_value(), ok << (r ? "" : " -> " + r.error().what()));
    }
    struct row {
        std::string url;
        std::string needle;
    };
    row const rows[] = {
        {"https://clerk_x.example.com", "'_'"},
        {"http://localhost:8080", "'.'"},
        {"https://localhost", "'.'"},
        {"ftp://clerk.example.com", "http"},
        {"clerk.example.com", "http"},
        {"https://", "missing host"},
        {"https:///path", "missing host"},
        {"https://clerk.exa mple.com", "invalid character"},
        {"https://clerk.example.com?x=1", "invalid character"},
    };
    for (auto const& r : rows) {
        auto e = load_err({"--frontend-api=" + r.url});
        BOOST_TEST(e.setting == "frontend_api", r.url);
        BOOST_TEST(e.message.find(r.needle) != std::string::npos, r.url << " -> " << e.message);
    }
}

BOOST_AUTO_TEST_CASE(app_domain_rules) {
    BOOST_TEST(load_ok({}).app_domain.empty());
    BOOST_TEST(load_ok({"--app-domain=Example.COM"}).app_domain == "example.com");
    BOOST_TEST(load_ok({}, fake_env({{"LATCHKEY_APP_DOMAIN", "shop.example.co.uk"}})).app_domain ==
               "shop.example.co.uk");
    BOOST_TEST(json_ok(R"({"app_domain":"example.test"})").app_domain == "example.test");
    // Syntax here; public suffixes and a FAPI host outside it are refused when the instance starts (bootstrap).
    for (std::string bad : {"", "com", "localhost", ".example.com", "example.com.", "exa..mple.com", "exa_mple.com",
                            "https://example.com", "example.com:443", "ex ample.com", "example.com/x"}) {
        auto e = load_err({"--app-domain=" + bad});
        BOOST_TEST(e.setting == "--app-domain", bad);
    }
}

BOOST_AUTO_TEST_CASE(jwt_templates_parse) {
    auto c = json_ok(R"({"jwt_templates":[
        {"name":"default","claims":{"email":"{{user.primary_email_address}}","n":1},"lifetime":120,"allowed_clock_skew":10},
        {"name":"bare"}]})");
    BOOST_TEST_REQUIRE(c.jwt_templates.size() == 2u);
    auto const& t = c.jwt_templates[0];
    BOOST_TEST(t.name == "default");
    BOOST_TEST(t.claims == R"({"email":"{{user.primary_email_address}}","n":1})");
    BOOST_TEST(t.lifetime == 120u);
    BOOST_TEST(t.allowed_clock_skew == 10u);
    auto const& b = c.jwt_templates[1];
    BOOST_TEST(b.name == "bare");
    BOOST_TEST(b.claims == "{}");
    BOOST_TEST(b.lifetime == 60u);
    BOOST_TEST(b.allowed_clock_skew == 5u);

    auto skew = json_problem(R"({"jwt_templates":[{"name":"a","allowed_clock_skew":301}]})");
    BOOST_TEST_REQUIRE(skew.has_value());
    BOOST_TEST(skew->setting == "jwt_templates.allowed_clock_skew");
}

BOOST_AUTO_TEST_CASE(password_policy_block) {
    auto c = json_ok(R"({"password_policy":{"min_length":12,"max_length":100,"require_lowercase":true,
        "require_uppercase":true,"require_numbers":true,"require_special_char":true,"reject_common":false}})");
    BOOST_TEST(c.passwords.min_length == 12u);
    BOOST_TEST(c.passwords.max_length == 100u);
    BOOST_TEST(c.passwords.require_lowercase);
    BOOST_TEST(c.passwords.require_uppercase);
    BOOST_TEST(c.passwords.require_numbers);
    BOOST_TEST(c.passwords.require_special_char);
    BOOST_TEST(!c.passwords.reject_common);

    // Unset members keep their defaults.
    auto partial = json_ok(R"({"password_policy":{"min_length":10}})");
    BOOST_TEST(partial.passwords.max_length == 72u);
    BOOST_TEST(partial.passwords.reject_common);

    auto inverted = json_problem(R"({"password_policy":{"min_length":50,"max_length":20}})");
    BOOST_TEST_REQUIRE(inverted.has_value());
    BOOST_TEST(inverted->setting == "password_policy.min_length");
    auto too_long = json_problem(R"({"password_policy":{"max_length":257}})");
    BOOST_TEST_REQUIRE(too_long.has_value());
    BOOST_TEST(too_long->setting == "password_policy.max_length");
}

BOOST_AUTO_TEST_CASE(attack_protection_block) {
    auto c = json_ok(R"({"attack_protection":{"max_attempts":5,"lockout_seconds":120,"code_max_attempts":4,
        "code_ttl_seconds":300,"rate_per_ip_per_minute":60,"rate_per_identifier_per_minute":10}})");
    BOOST_TEST(c.protection.max_attempts == 5u);
    BOOST_TEST(c.protection.lockout.count() == 120);
    BOOST_TEST(c.protection.code_max_attempts == 4u);
    BOOST_TEST(c.protection.code_ttl.count() == 300);
    BOOST_TEST(c.protection.rate_per_ip_per_minute == 60u);
    BOOST_TEST(c.protection.rate_per_identifier_per_minute == 10u);

    auto partial = json_ok(R"({"attack_protection":{"max_attempts":7}})");
    BOOST_TEST(partial.protection.lockout.count() == 3600);
    BOOST_TEST(partial.protection.code_ttl.count() == 600);

    auto e = json_problem(R"({"attack_protection":{"code_max_attempts":101}})");
    BOOST_TEST_REQUIRE(e.has_value());
    BOOST_TEST(e->setting == "attack_protection.code_max_attempts");
}

BOOST_AUTO_TEST_CASE(instance_settings_from_json) {
    auto c = json_ok(R"({"application_name":"Acme","phone_number":{"enabled":true,"used_for_first_factor":true},
        "username":{"enabled":true,"required":true},"first_name":{"enabled":false},
        "first_factors":["password","phone_code"],"second_factors":["phone_code"],"single_session_mode":true,
        "session_lifetime":3600,"inactivity_timeout":600,"token_lifetime":30,"client_cookie_lifetime":86400,
        "allowed_origins":["https://app.example.com","http://localhost:3000"],"home_url":"https://app.example.com",
        "sign_in_url":"https://app.example.com/in","sign_up_url":"https://app.example.com/up",
        "preferred_sign_in_strategy":"otp","sign_up_mode":"restricted"})");
    BOOST_TEST(c.application_name == "Acme");
    BOOST_TEST(c.phone_number.enabled);
    BOOST_TEST(c.phone_number.used_for_first_factor);
    BOOST_TEST(!c.phone_number.required);
    BOOST_TEST(c.username.enabled);
    BOOST_TEST(c.username.required);
    BOOST_TEST(!c.first_name.enabled);
    BOOST_TEST(c.email_address.enabled);  // untouched default
    BOOST_TEST((c.first_factors == std::vector<std::string>{"password", "phone_code"}));
    BOOST_TEST((c.second_factors == std::vector<std::string>{"phone_code"}));
    BOOST_TEST(c.single_session_mode);
    BOOST_TEST(c.session_lifetime.count() == 3600);
    BOOST_TEST(c.inactivity_timeout.count() == 600);
    BOOST_TEST(c.token_lifetime.count() == 30);
    BOOST_TEST(c.client_cookie_lifetime.count() == 86400);
    BOOST_TEST(c.allowed_origins.size() == 2u);
    BOOST_TEST(c.home_url == "https://app.example.com");
    BOOST_TEST(c.sign_in_url == "https://app.example.com/in");
    BOOST_TEST(c.sign_up_url == "https://app.example.com/up");
    BOOST_TEST(c.preferred_sign_in_strategy == "otp");
    BOOST_TEST(c.sign_up_mode == "restricted");
}

BOOST_AUTO_TEST_CASE(waitlist_mode_and_url) {
    auto c = json_ok(R"({"sign_up_mode":"waitlist","waitlist_url":"https://app.example.com/join"})");
    BOOST_TEST(c.sign_up_mode == "waitlist");
    BOOST_TEST(c.waitlist_url == "https://app.example.com/join");
}

BOOST_AUTO_TEST_CASE(cross_field_validation) {
    json_setting const rows[] = {
        {R"({"preferred_sign_in_strategy":"magic"})", "preferred_sign_in_strategy"},
        {R"({"sign_up_mode":"sometimes"})", "sign_up_mode"},
        {R"({"waitlist_url":"ftp://app.example.com/join"})", "waitlist_url"},
        {R"({"first_factors":["password","carrier_pigeon"]})", "first_factors"},
        {R"({"allowed_origins":["https://app.example.com/"]})", "allowed_origins"},
        {R"({"allowed_origins":["app.example.com"]})", "allowed_origins"},
        {R"({"phone_number":{"enabled":false,"required":true}})", "attributes"},
        {R"({"email_address":{"enabled":false,"required":false}})", "email_address"},
        {R"({"token_lifetime":0})", "token_lifetime"},
        {R"({"session_lifetime":59})", "session_lifetime"},
        {R"({"max_header_bytes":1023})", "max_header_bytes"},
        {R"({"max_body_bytes":10})", "max_body_bytes"},
        {R"({"tls_cert":"/c.pem"})", "tls_key"},
        {R"({"tls_key":"/k.pem"})", "tls_cert"},
        {R"({"data_dir":""})", "data_dir"},
    };
    for (auto const& r : rows) {
        auto e = json_problem(r.json);
        BOOST_TEST_REQUIRE(e.has_value(), r.json);
        BOOST_TEST(e->setting == r.setting, r.json << " -> " << e->what());
    }
    // The defaults themselves are valid.
    BOOST_TEST(!validate(config{}).has_value());
}

BOOST_AUTO_TEST_CASE(usage_lists_every_flag_and_env_var) {
    auto u = usage();
    for (auto const* s :
         {"--listen", "LATCHKEY_LISTEN", "--backend-listen", "LATCHKEY_BACKEND_LISTEN", "--data-dir", "--config",
          "LATCHKEY_CONFIG", "--secret-key", "--frontend-api", "--instance", "--test-mode", "--threads",
          "--hash-threads", "--durable", "--access-log", "--map-size", "--tls-cert", "--tls-key", "LATCHKEY_TLS_KEY"})
        BOOST_TEST(u.find(s) != std::string::npos, s);
    // Every flag usage() advertises is accepted by load().
    BOOST_TEST(load_ok({"--access-log=false"}).access_log == false);
    BOOST_TEST(load_ok({"--map-size=4096"}).map_size == 4096u);
    BOOST_TEST(load_ok({"--hash-threads=3"}).hash_threads == 3u);
}

BOOST_AUTO_TEST_CASE(organizations_settings_and_custom_roles) {
    auto d = json_ok("{}");
    BOOST_TEST(d.organizations.enabled == false);
    BOOST_TEST(d.organizations.max_allowed_memberships == 5u);
    BOOST_TEST(d.organizations.creator_role == "org:admin");
    auto c = json_ok(R"({"organizations":{"enabled":true,"max_allowed_memberships":0,"creator_role":"org:billing",
        "admin_delete":false,"slug_disabled":true,"roles":[{"key":"org:billing","name":"Billing",
        "permissions":["org:invoices:read","org:invoices:manage"]}]}})");
    BOOST_TEST(c.organizations.enabled);
    BOOST_TEST(c.organizations.max_allowed_memberships == 0u);
    BOOST_TEST(c.organizations.creator_role == "org:billing");
    BOOST_TEST(!c.organizations.admin_delete);
    BOOST_TEST(c.organizations.slug_disabled);
    BOOST_TEST_REQUIRE(c.organizations.roles.size() == 1u);
    BOOST_TEST(c.organizations.roles[0].permissions.size() == 2u);
    // Refused, naming the setting: unknown keys, a bad role key or permission, a system role redefined, an
    // unknown creator role.
    for (auto const* bad : {R"({"organizations":{"nope":1}})", R"({"organizations":{"roles":[{"key":"billing"}]}})",
                            R"({"organizations":{"roles":[{"key":"org:admin"}]}})",
                            R"({"organizations":{"roles":[{"key":"org:x","permissions":["org:invoices"]}]}})",
                            R"({"organizations":{"creator_role":"org:ghost"}})", R"({"organizations":true})"}) {
        auto e = json_problem(bad);
        BOOST_TEST_REQUIRE(e.has_value(), bad);
        BOOST_TEST(e->what().find("organizations") != std::string::npos, e->what());
    }
}

BOOST_AUTO_TEST_CASE(organization_domains_settings) {
    auto d = json_ok("{}");
    BOOST_TEST(!d.organizations.domains_enabled);
    BOOST_TEST(d.organizations.domain_enrollment_modes.size() == 2u);
    auto c = json_ok(R"({"organizations":{"enabled":true,"domains_enabled":true,
        "domain_enrollment_modes":["automatic_suggestion"]}})");
    BOOST_TEST(c.organizations.domains_enabled);
    BOOST_TEST_REQUIRE(c.organizations.domain_enrollment_modes.size() == 1u);
    BOOST_TEST(c.organizations.domain_enrollment_modes[0] == "automatic_suggestion");
    for (auto const* bad : {R"({"organizations":{"domain_enrollment_modes":["enterprise_sso"]}})",
                            R"({"organizations":{"domain_enrollment_modes":"automatic_invitation"}})",
                            R"({"organizations":{"domains_enabled":"yes"}})"}) {
        auto e = json_problem(bad);
        BOOST_TEST_REQUIRE(e.has_value(), bad);
        BOOST_TEST(e->what().find("domain") != std::string::npos, e->what());
    }
}

BOOST_AUTO_TEST_SUITE_END()
