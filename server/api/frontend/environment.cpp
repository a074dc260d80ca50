// GET /v1/environment and its dev-instance "touch" (POST /v1/environment?_method=PATCH): the instance
// settings clerk-js needs to load, in the exact shape of the spec's Client.Environment (every required
// property of every nested schema, nothing the schema does not list).
#include "server/api/domain/passkeys.hpp"
#include "server/api/domain/web3.hpp"
#include "server/api/federation/federation.hpp"
#include "server/api/frontend/handlers.hpp"
#include "server/api/frontend/portal.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::server::api::frontend {

namespace json = boost::json;

namespace {

// ---- inputs ----

bool has(std::vector<std::string> const& v, std::string_view s) { return std::find(v.begin(), v.end(), s) != v.end(); }

/// The strategies of `all` that are also in `wanted`, in `wanted` order.
json::array pick(std::vector<std::string> const& all, std::initializer_list<std::string_view> wanted) {
    json::array out;
    for (auto w : wanted)
        if (has(all, w)) out.emplace_back(w);
    return out;
}

/// "on" / "off" / "required", as auth_config spells an attribute.
std::string_view attribute_state(conf::attribute const& at) {
    if (!at.enabled) return "off";
    return at.required ? "required" : "on";
}

/// The id suffix shared by the auth_config and display_config ids (stable per instance).
std::string id_suffix(app const& a) {
    std::string_view id = a.inst.id;
    if (auto us = id.find('_'); us != std::string_view::npos) id.remove_prefix(us + 1);
    return std::string(id);
}

// ---- blocks ----

json::object native_settings() {
    json::object o;
    o["object"] = "native_settings";
    o["api_enabled"] = false;
    o["trusted_device_sign_in_enabled"] = false;
    o["trusted_device_enrollment_prompt_after_sign_in_enabled"] = false;
    o["trusted_device_enrollment_prompt_after_sign_up_enabled"] = false;
    return o;
}

json::object auth_config(app const& a) {
    auto const& c = a.cfg;
    json::object o;
    o["object"] = "auth_config";
    o["id"] = "aac_" + id_suffix(a);
    o["first_name"] = attribute_state(c.first_name);
    o["last_name"] = attribute_state(c.last_name);
    o["email_address"] = attribute_state(c.email_address);
    o["phone_number"] = attribute_state(c.phone_number);
    o["username"] = attribute_state(c.username);
    o["password"] = attribute_state(c.password);

    // Each inner array is one requirement any of whose identifiers satisfies it: a required identifier is a
    // requirement of its own; with none required, any enabled identifier will do.
    struct ident {
        std::string_view name;
        conf::attribute const& at;
    };
    ident const idents[] = {
        {"email_address", c.email_address}, {"phone_number", c.phone_number}, {"username", c.username}};
    json::array requirements;
    json::array any_of;
    json::array strategies;
    for (auto const& i : idents) {
        if (!i.at.enabled) continue;
        if (i.at.required) requirements.emplace_back(json::array{i.name});
        any_of.emplace_back(i.name);
        if (i.at.used_for_first_factor) strategies.emplace_back(i.name);
    }
    if (requirements.empty() && !any_of.empty()) requirements.emplace_back(std::move(any_of));
    o["identification_requirements"] = std::move(requirements);
    o["identification_strategies"] = std::move(strategies);

    json::array first;
    for (auto const& f : c.first_factors) first.emplace_back(f);
    o["first_factors"] = std::move(first);
    json::array second;
    for (auto const& f : c.second_factors) second.emplace_back(f);
    o["second_factors"] = std::move(second);
    o["email_address_verification_strategies"] = c.email_address.enabled ? json::array{"email_code"} : json::array{};
    o["single_session_mode"] = c.single_session_mode;
    o["enhanced_email_deliverability"] = false;
    o["test_mode"] = c.test_mode;
    // Development instances carry the dev-browser token in the URL (clerk-wire §2), not in a third-party cookie.
    o["url_based_session_syncing"] = !a.inst.production;
    o["claimed_at"] = nullptr;
    o["reverification"] = false;
    o["native_settings"] = native_settings();
    return o;
}

/// Clerk's classic default theme (clerk-js only passes it through).
json::object default_theme() {
    constexpr std::string_view font = "\"Source Sans Pro\", sans-serif";
    json::object buttons;
    buttons["font_color"] = "#ffffff";
    buttons["font_family"] = font;
    buttons["font_weight"] = "600";
    json::object general;
    general["color"] = "#6c47ff";
    general["padding"] = "1em";
    general["box_shadow"] = "0 2px 8px rgba(0, 0, 0, 0.2)";
    general["font_color"] = "#151515";
    general["font_family"] = font;
    general["border_radius"] = "0.5em";
    general["background_color"] = "#ffffff";
    general["label_font_weight"] = "600";
    json::object accounts;
    accounts["background_color"] = "#ffffff";
    json::object theme;
    theme["buttons"] = std::move(buttons);
    theme["general"] = std::move(general);
    theme["accounts"] = std::move(accounts);
    return theme;
}

json::object display_config(app const& a) {
    auto const& c = a.cfg;
    // Sign-in, sign-up and profile pages: the app's own where the config names them, else the Account Portal's
    // on the FAPI origin. Everything else points home: the configured home URL, else the app's origin behind a
    // proxy prefix, else the portal's profile page (portal.cpp, account_urls_of).
    auto const urls = account_urls_of(a);
    std::string const& home = urls.home;
    std::string const& sign_in = urls.sign_in;
    std::string const& sign_up = urls.sign_up;

    json::object o;
    o["object"] = "display_config";
    o["id"] = "display_config_" + id_suffix(a);
    o["instance_environment_type"] = a.inst.production ? "production" : "development";
    o["application_name"] = c.application_name;
    o["theme"] = default_theme();
    o["preferred_sign_in_strategy"] = c.preferred_sign_in_strategy;
    auto const url_or_null = [](std::string const& u) { return u.empty() ? json::value(nullptr) : json::value(u); };
    o["logo_image_url"] = url_or_null(c.branding.logo_url);
    o["favicon_image_url"] = url_or_null(c.branding.favicon_url);
    o["home_url"] = home;
    o["sign_in_url"] = sign_in;
    o["sign_up_url"] = sign_up;
    o["user_profile_url"] = urls.user_profile;
    o["waitlist_url"] = urls.waitlist;
    o["oauth_consent_url"] = home + "/oauth-consent";
    o["after_sign_in_url"] = urls.after_sign_in;
    o["after_sign_up_url"] = urls.after_sign_in;
    o["after_sign_out_one_url"] = sign_in;
    o["after_sign_out_all_url"] = sign_in;
    o["after_switch_session_url"] = home;
    o["after_join_waitlist_url"] = home;
    o["organization_profile_url"] = urls.organization_profile;  // the portal's pages (issue 13/19)
    o["create_organization_url"] = urls.create_organization;
    o["after_leave_organization_url"] = home;
    o["after_create_organization_url"] = home;
    o["logo_link_url"] = home;
    o["support_email"] = nullptr;
    o["branded"] = false;
    o["experimental_force_oauth_first"] = false;
    o["clerk_js_version"] = nullptr;
    o["show_devmode_warning"] = !a.inst.production;
    // Google One Tap (clerk-js <GoogleOneTap/>, authenticateWithGoogleOneTap) needs the Google client id the ID
    // token is minted for: the configured oauth_google provider's (its tokens are verified against it).
    if (auto const* g = federation::find_provider(a, "oauth_google"); g != nullptr && !g->client_id.empty())
        o["google_one_tap_client_id"] = g->client_id;
    else
        o["google_one_tap_client_id"] = nullptr;
    o["help_url"] = nullptr;
    o["privacy_policy_url"] = url_or_null(c.legal_consent.privacy_policy_url);
    o["terms_url"] = url_or_null(c.legal_consent.terms_url);
    o["logo_url"] = nullptr;
    o["favicon_url"] = nullptr;
    o["logo_image"] = nullptr;
    o["favicon_image"] = nullptr;
    // No captcha: with sign_up.captcha_enabled false clerk-js never loads Turnstile.
    o["captcha_public_key"] = nullptr;
    o["captcha_widget_type"] = nullptr;
    o["captcha_public_key_invisible"] = nullptr;
    o["captcha_provider"] = nullptr;
    o["captcha_oauth_bypass"] = json::array{};
    o["captcha_heartbeat"] = false;
    return o;
}

/// One UserSettings.Attribute.
json::object attribute(bool enabled, bool required, bool first, json::array first_factors, bool second,
                       json::array second_factors, json::array verifications, bool verify_at_sign_up) {
    json::object o;
    o["enabled"] = enabled;
    o["required"] = enabled && required;
    o["used_for_first_factor"] = enabled && first;
    o["first_factors"] = enabled && first ? std::move(first_factors) : json::array{};
    o["used_for_second_factor"] = enabled && second;
    o["second_factors"] = enabled && second ? std::move(second_factors) : json::array{};
    o["verifications"] = enabled ? std::move(verifications) : json::array{};
    o["verify_at_sign_up"] = enabled && verify_at_sign_up;
    o["immutable"] = false;
    return o;
}

json::object disabled_attribute() { return attribute(false, false, false, {}, false, {}, {}, false); }

/// A plain attribute (names, password): enabled/required only.
json::object plain_attribute(conf::attribute const& at) {
    return attribute(at.enabled, at.required, false, {}, false, {}, {}, false);
}

json::object attributes(app const& a) {
    auto const& c = a.cfg;
    json::object o;
    auto const& e = c.email_address;
    o["email_address"] = attribute(
        e.enabled, e.required, e.used_for_first_factor,
        pick(c.first_factors, {"email_code", "email_link", "reset_password_email_code"}), false, {},
        has(c.first_factors, "email_link") ? json::array{"email_code", "email_link"} : json::array{"email_code"},
        e.verify_at_sign_up);
    auto const& p = c.phone_number;
    bool phone_second = has(c.second_factors, "phone_code");
    o["phone_number"] = attribute(p.enabled, p.required, p.used_for_first_factor,
                                  pick(c.first_factors, {"phone_code", "reset_password_phone_code"}), phone_second,
                                  json::array{"phone_code"}, json::array{"phone_code"}, p.verify_at_sign_up);
    auto const& u = c.username;
    o["username"] = attribute(u.enabled, u.required, u.used_for_first_factor, {}, false, {}, {}, false);
    json::array web3;  // issue 14: the Ethereum wallet strategies in first_factors
    for (auto const& w : domain::web3::enabled_strategies(a)) web3.emplace_back(w);
    bool const wallets = !web3.empty();
    o["web3_wallet"] = attribute(wallets, false, wallets, web3, false, {}, web3, false);
    o["first_name"] = plain_attribute(c.first_name);
    o["last_name"] = plain_attribute(c.last_name);
    // The password is a factor, not an identifier: never used_for_first_factor (clerk-js lists identifiers by it).
    o["password"] = plain_attribute(c.password);
    bool totp = has(c.second_factors, "totp");
    o["authenticator_app"] = attribute(totp, false, false, {}, totp, json::array{"totp"}, {}, false);
    bool backup = has(c.second_factors, "backup_code");
    o["backup_code"] = attribute(backup, false, false, {}, backup, json::array{"backup_code"}, {}, false);
    o["ticket"] = disabled_attribute();
    bool const passkey = domain::passkeys::enabled(a);  // issue 14: "passkey" in first_factors
    o["passkey"] = attribute(passkey, false, passkey, json::array{"passkey"}, false, {}, json::array{"passkey"}, false);
    return o;
}

json::object enabled_flag(bool on) {
    json::object o;
    o["enabled"] = on;
    return o;
}

json::object user_settings(app const& a) {
    auto const& c = a.cfg;
    json::object o;
    o["attributes"] = attributes(a);
    o["social"] = federation::social_settings(a);               // issue 15: the configured providers
    o["saml"] = enabled_flag(!a.cfg.saml_connections.empty());  // issue 15: BAPI-made connections count at use
    o["enterprise_sso"] = enabled_flag(!a.cfg.saml_connections.empty());

    json::object second_factor;
    second_factor["required"] = c.second_factor_required;  // issue 14: "require multi-factor authentication"
    json::object sign_in;
    sign_in["second_factor"] = std::move(second_factor);
    o["sign_in"] = std::move(sign_in);

    json::object sign_up;
    sign_up["captcha_enabled"] = false;
    sign_up["captcha_widget_type"] = "smart";
    sign_up["custom_action_required"] = false;
    sign_up["progressive"] = true;
    sign_up["mode"] = c.sign_up_mode;
    sign_up["legal_consent_enabled"] = c.legal_consent.enabled;
    o["sign_up"] = std::move(sign_up);

    json::object restrictions;
    restrictions["allowlist"] = enabled_flag(false);
    restrictions["blocklist"] = enabled_flag(false);
    restrictions["allowlist_blocklist_disabled_on_sign_in"] = enabled_flag(false);
    restrictions["block_email_subaddresses"] = enabled_flag(false);
    restrictions["block_disposable_email_domains"] = enabled_flag(false);
    o["restrictions"] = std::move(restrictions);

    auto const& pw = c.passwords;
    json::object password;
    password["disable_hibp"] = !pw.reject_common;
    password["disable_password_reverification"] = false;
    password["min_length"] = pw.min_length;
    password["max_length"] = pw.max_length;
    password["require_special_char"] = pw.require_special_char;
    password["require_numbers"] = pw.require_numbers;
    password["require_uppercase"] = pw.require_uppercase;
    password["require_lowercase"] = pw.require_lowercase;
    password["show_zxcvbn"] = false;
    password["min_zxcvbn_strength"] = 0;
    password["enforce_hibp_on_sign_in"] = false;
    // check_password_policy counts any character that is not a letter or digit as special.
    password["allowed_special_characters"] = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
    o["password_settings"] = std::move(password);

    // The limits usernames are validated against (4..64 of [a-zA-Z0-9_-]).
    json::object username;
    username["min_length"] = 4;
    username["max_length"] = 64;
    username["allow_extended_special_characters"] = false;
    username["allow_numeric_usernames"] = false;
    o["username_settings"] = std::move(username);

    json::object actions;
    actions["delete_self"] = true;
    actions["create_organization"] = c.organizations.enabled;
    actions["create_organizations_limit"] = nullptr;
    o["actions"] = std::move(actions);

    auto const& prot = c.protection;
    json::object lockout;
    lockout["enabled"] = prot.max_attempts > 0;
    lockout["max_attempts"] = prot.max_attempts;
    lockout["duration_in_minutes"] = (prot.lockout.count() + 59) / 60;
    json::object email_link;
    email_link["require_same_client"] = false;
    json::object attack;
    attack["user_lockout"] = std::move(lockout);
    attack["pii"] = enabled_flag(false);
    attack["email_link"] = std::move(email_link);
    attack["enumeration_protection"] = enabled_flag(false);
    o["attack_protection"] = std::move(attack);

    json::object passkey;
    passkey["allow_autofill"] = c.passkeys.allow_autofill;
    passkey["show_sign_in_button"] = c.passkeys.show_sign_in_button;
    passkey["satisfies_second_factor"] = c.passkeys.satisfies_second_factor;
    o["passkey_settings"] = std::move(passkey);
    return o;
}

json::object organization_settings(app const& a) {
    auto const& c = a.cfg.organizations;  // issue 13: from the config's "organizations"
    json::object actions;
    actions["admin_delete"] = c.admin_delete;
    json::object domains;
    domains["enabled"] = c.domains_enabled;
    json::array modes;
    if (c.domains_enabled) {
        modes.emplace_back("manual_invitation");
        for (auto const& m : c.domain_enrollment_modes) modes.emplace_back(m);
    }
    domains["enrollment_modes"] = std::move(modes);
    domains["default_role"] = c.default_role;
    json::object slug;
    slug["disabled"] = c.slug_disabled;
    json::object o;
    o["enabled"] = c.enabled;
    o["max_allowed_memberships"] = c.max_allowed_memberships;
    o["actions"] = std::move(actions);
    o["domains"] = std::move(domains);
    o["slug"] = std::move(slug);
    o["creator_role"] = c.creator_role;
    // force_organization_selection is not in the FAPI spec's organization_settings (the foundation suite checks
    // the default environment against it); clerk-js reads it as false when absent, so it is shown only when set.
    if (c.force_organization_selection) o["force_organization_selection"] = true;
    return o;
}

// The parts of the environment latchkey has no feature behind: constant, written as the literals they are.

json::object fraud_settings() {
    return {{"object", "fraud_settings"}, {"native", {{"device_attestation_mode", "disabled"}}}};
}

json::object commerce_settings() {
    json::object const off{{"enabled", false}, {"has_paid_plans", false}};
    return {{"billing",
             {{"stripe_publishable_key", nullptr},
              {"free_trial_requires_payment_method", false},
              {"user", off},
              {"organization", off}}}};
}

json::object api_keys_settings() {
    return {{"enabled", false}, {"user_api_keys_enabled", false}, {"orgs_api_keys_enabled", false}};
}

std::string render_environment(app const& a) {
    json::object env;
    env["auth_config"] = auth_config(a);
    env["display_config"] = display_config(a);
    env["user_settings"] = user_settings(a);
    env["organization_settings"] = organization_settings(a);
    env["fraud_settings"] = fraud_settings();
    env["commerce_settings"] = commerce_settings();
    env["api_keys_settings"] = api_keys_settings();
    env["protect_config"] = json::object{{"loaders", json::array{}}};
    env["client_debug_mode"] = false;
    env["partitioned_cookies"] = false;
    env["maintenance_mode"] = false;
    return json::serialize(env);
}

// ---- cache ----

/// FNV-1a over everything render_environment reads, so a cached body is never served for another instance
/// or config (tests start many servers in one process; an app may reuse a dead one's address).
class fingerprint {
public:
    fingerprint& add(std::string_view s) noexcept {
        add(static_cast<std::uint64_t>(s.size()));
        for (unsigned char ch : s) mix(ch);
        return *this;
    }
    fingerprint& add(std::uint64_t v) noexcept {
        for (int i = 0; i < 8; ++i) mix(static_cast<unsigned char>(v >> (8 * i)));
        return *this;
    }
    fingerprint& add(bool b) noexcept { return add(static_cast<std::uint64_t>(b ? 1 : 0)); }
    fingerprint& add(std::vector<std::string> const& v) noexcept {
        add(static_cast<std::uint64_t>(v.size()));
        for (auto const& s : v) add(std::string_view(s));
        return *this;
    }
    fingerprint& add(conf::attribute const& at) noexcept {
        return add(at.enabled).add(at.required).add(at.used_for_first_factor).add(at.verify_at_sign_up);
    }
    std::uint64_t value() const noexcept { return h_; }

private:
    void mix(unsigned char ch) noexcept {
        h_ ^= ch;
        h_ *= 0x100000001b3ull;
    }
    std::uint64_t h_ = 0xcbf29ce484222325ull;
};

std::uint64_t inputs_of(app const& a) noexcept {
    auto const& c = a.cfg;
    auto const& p = c.passwords;
    fingerprint f;
    f.add(std::string_view(a.inst.id)).add(std::string_view(a.inst.frontend_api)).add(a.inst.production);
    f.add(std::string_view(c.application_name))
        .add(c.email_address)
        .add(c.phone_number)
        .add(c.username)
        .add(c.first_name)
        .add(c.last_name)
        .add(c.password)
        .add(c.first_factors)
        .add(c.second_factors);
    f.add(c.passkeys.allow_autofill).add(c.passkeys.show_sign_in_button).add(c.passkeys.satisfies_second_factor);
    f.add(std::uint64_t{p.min_length})
        .add(std::uint64_t{p.max_length})
        .add(p.require_lowercase)
        .add(p.require_uppercase)
        .add(p.require_numbers)
        .add(p.require_special_char)
        .add(p.reject_common);
    f.add(c.single_session_mode).add(c.test_mode);
    f.add(std::string_view(c.home_url)).add(std::string_view(c.sign_in_url)).add(std::string_view(c.sign_up_url));
    f.add(std::string_view(c.user_profile_url))
        .add(std::string_view(c.waitlist_url))
        .add(std::string_view(c.branding.logo_url))
        .add(std::string_view(c.branding.favicon_url))
        .add(c.legal_consent.enabled)
        .add(std::string_view(c.legal_consent.terms_url))
        .add(std::string_view(c.legal_consent.privacy_policy_url));
    f.add(std::string_view(c.preferred_sign_in_strategy)).add(std::string_view(c.sign_up_mode));
    f.add(std::uint64_t{c.protection.max_attempts}).add(static_cast<std::uint64_t>(c.protection.lockout.count()));
    auto const& og = c.organizations;  // issue 13
    f.add(og.enabled).add(std::uint64_t{og.max_allowed_memberships}).add(std::string_view(og.creator_role));
    f.add(std::string_view(og.default_role)).add(og.admin_delete).add(og.force_organization_selection);
    f.add(og.slug_disabled);
    f.add(og.domains_enabled);
    for (auto const& m : og.domain_enrollment_modes) f.add(std::string_view(m));
    return f.value();
}

/// The serialized environment for `a`. It depends on the config alone, so each I/O thread renders it once
/// and then only copies it (no locks: the cache is per thread).
std::string const& environment_body(app const& a) {
    struct entry {
        app const* owner = nullptr;
        std::uint64_t inputs = 0;
        std::string body;
    };
    thread_local entry cached;
    auto inputs = inputs_of(a);
    if (cached.owner != &a || cached.inputs != inputs || cached.body.empty()) {
        cached.body = render_environment(a);
        cached.owner = &a;
        cached.inputs = inputs;
    }
    return cached.body;
}

}  // namespace

api_result<reply> get_environment(app& a, request_ctx&) { return reply{http::status::ok, environment_body(a), {}}; }

/// clerk-js's development "touch". Nothing about the environment changes per browser, so it answers with the
/// same bare environment object (clerk-js reads `response ?? body`).
api_result<reply> patch_environment(app& a, request_ctx&) { return reply{http::status::ok, environment_body(a), {}}; }

}  // namespace latchkey::server::api::frontend
