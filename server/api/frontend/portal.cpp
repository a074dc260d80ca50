// The Account Portal: GET /sign-in, /sign-up, /user, /organization and /create-organization on the FAPI origin (also
// under its proxy prefix), the pages display_config points at when the app has none of its own. Each page is a small
// HTML document kept in the binary that loads the shipped bundles the way a script-tag install does (clerk.browser.js
// with the publishable key and proxy URL as data attributes, then @clerk/ui's ui.browser.js) and a static bootstrap,
// /portal/portal.js, which calls Clerk.load() and mounts <SignIn/>, <SignUp/> or <UserProfile/> (with a <UserButton/>).
//
// Routing is hash routing (/sign-in#/factor-one): clerk-js's default without a framework router, so the server
// serves exactly three documents, a step never reloads the page, and a reload stays on its step.
//
// What a page may do is fixed by its Content-Security-Policy: scripts only from the page's own origin (no inline
// script at all: the per-page settings travel in a JSON data block, which is never executed), styles from the
// origin plus a per-response nonce (@clerk/ui's emotion inserts <style> elements carrying the nonce Clerk.load()
// is given), connections to the origin and the FAPI, no framing. Everything from config or the request is
// escaped for where it lands, and redirect targets come only from api::allowed_redirect().
#include "server/api/frontend/portal.hpp"

#include "bundles/bundles.hpp"
#include "crypto/random.hpp"
#include "server/api/dispatch.hpp"
#include "server/api/frontend/handlers.hpp"
#include "server/api/frontend/static_file.hpp"
#include "server/escape.hpp"
#include "server/http/guard.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::server::api::frontend {

namespace json = boost::json;

namespace {

std::string without_trailing_slash(std::string s) {
    while (!s.empty() && s.back() == '/') s.pop_back();
    return s;
}

/// scheme://host[:port] of a URL ("" if it has no scheme).
std::string origin_of(std::string_view url) {
    auto scheme = url.find("://");
    if (scheme == std::string_view::npos) return {};
    return std::string(url.substr(0, url.find('/', scheme + 3)));
}

enum class page { sign_in, sign_up, user, waitlist, organization, create_organization };

/// What the bootstrap script and the document call each page, in the enum's order.
struct page_words {
    std::string_view name;   ///< the script's page key
    std::string_view title;  ///< the document's <title> and heading
};
constexpr page_words pages[] = {
    {"sign-in", "Sign in"},
    {"sign-up", "Sign up"},
    {"user", "Account"},
    {"waitlist", "Join the waitlist"},
    {"organization", "Organization"},
    {"create-organization", "Create organization"},
};
static_assert(std::size(pages) == static_cast<std::size_t>(page::create_organization) + 1);

std::string_view page_name(page p) { return pages[static_cast<std::size_t>(p)].name; }
std::string_view page_title(page p) { return pages[static_cast<std::size_t>(p)].title; }

/// JSON for a <script type="application/json"> block: the serializer's output with '<', '>' and '&' written
/// as \u escapes (they can only occur inside strings), so no "</script>" or "<!--" can end or alter the block,
/// and U+2028/U+2029 escaped too.
std::string json_for_script_block(json::value const& v) {
    std::string const raw = json::serialize(v);
    std::string out;
    out.reserve(raw.size() + 64);
    for (std::size_t i = 0; i < raw.size(); ++i) {
        char const c = raw[i];
        if (c == '<')
            out += "\\u003c";
        else if (c == '>')
            out += "\\u003e";
        else if (c == '&')
            out += "\\u0026";
        else if (c == '\xE2' && i + 2 < raw.size() && raw[i + 1] == '\x80' &&
                 (raw[i + 2] == '\xA8' || raw[i + 2] == '\xA9')) {
            out += raw[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
            i += 2;
        } else {
            out += c;
        }
    }
    return out;
}

/// The redirect query parameters a portal page honours. Sign-in targets, first allowed wins: Clerk's force
/// parameter, the legacy after_sign_in_url, redirect_url, the fallback parameter; sign-up alike.
constexpr std::array<std::string_view, 4> sign_in_params = {"sign_in_force_redirect_url", "after_sign_in_url",
                                                            "redirect_url", "sign_in_fallback_redirect_url"};
constexpr std::array<std::string_view, 4> sign_up_params = {"sign_up_force_redirect_url", "after_sign_up_url",
                                                            "redirect_url", "sign_up_fallback_redirect_url"};

/// The first of `names` present in the query whose value api::allowed_redirect() accepts (re-serialised).
std::optional<std::string> requested_target(app const& a, request_ctx const& ctx,
                                            std::array<std::string_view, 4> const& names) {
    for (auto name : names)
        if (auto const* v = ctx.query.find(name))
            if (auto ok = allowed_redirect(a, *v)) return ok;
    return std::nullopt;
}

void add_origin(json::array& list, std::string const& origin) {
    if (origin.empty()) return;
    for (auto const& o : list)
        if (o.as_string() == origin) return;
    list.emplace_back(origin);
}

/// The origin of a configured URL, as parse_redirect normalises it ("" when it does not parse).
std::string normalised_origin(std::string_view url) {
    auto t = parse_redirect(url);
    return t ? t->origin : std::string{};
}

/// appearance.variables from the branding settings (validated hex colours).
json::object appearance(conf::branding_settings const& b) {
    json::object vars;
    if (!b.primary_color.empty()) vars["colorPrimary"] = b.primary_color;
    if (!b.background_color.empty()) vars["colorBackground"] = b.background_color;
    if (!b.text_color.empty()) vars["colorForeground"] = b.text_color;
    json::object out;
    out["variables"] = std::move(vars);
    return out;
}

/// Where the page's scripts live: the public FAPI URL's path prefix ("" or "/__clerk"), as an origin-relative
/// path, so the page works on whichever origin it was reached.
std::string script_url(app const& a, std::string_view package, std::string_view file) {
    std::string out = a.inst.fapi_path_prefix;
    out += "/npm/";
    out += package;
    for (auto const& p : bundles::packages())
        if (p.name == package) {
            out += '@';
            out += p.version;
        }
    out += "/dist/";
    out += file;
    return out;
}

/// The two <style> elements @clerk/ui's code-entry field creates without the nonce (seen as CSP violations in
/// Chromium), allowed by the hash of their fixed text: input-otp's empty "input-otp-style" element (its rules
/// then go in through the CSSOM) and the OTP caret's "@keyframes caret-blink-animation" block. A bundle bump
/// that changes them shows up as a violation in tests/e2e/components.test.mjs.
constexpr std::string_view bundle_style_hashes[] = {
    "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",  // "" (input-otp-style)
    "sha256-KQDhUccuEkZUQDnfbVDeY+ev2LZ+73AQR7ro4JppAY8=",  // @keyframes caret-blink-animation
};

api_result<reply> serve_page(app& a, request_ctx& ctx, page p) {
    auto const urls = account_urls_of(a);
    auto const& brand = a.cfg.branding;
    std::string const nonce = crypto::random_token(18);

    // Redirect targets: only what api::allowed_redirect() accepts; anything refused falls back to the
    // configured after-sign-in URL.
    auto const in_target = requested_target(a, ctx, sign_in_params);
    auto const up_target = requested_target(a, ctx, sign_up_params);
    std::string const fallback = parse_redirect(urls.after_sign_in) ? urls.after_sign_in : urls.portal_user_profile;

    json::array redirect_origins;
    add_origin(redirect_origins, normalised_origin(a.inst.frontend_api));
    add_origin(redirect_origins, normalised_origin(fallback));
    for (auto const& o : a.cfg.allowed_origins) add_origin(redirect_origins, o);
    for (auto const& o : a.cfg.allowed_redirect_origins) add_origin(redirect_origins, o);
    if (in_target) add_origin(redirect_origins, normalised_origin(*in_target));
    if (up_target) add_origin(redirect_origins, normalised_origin(*up_target));

    json::object settings;
    settings["page"] = page_name(p);
    settings["nonce"] = nonce;
    settings["signInUrl"] = urls.portal_sign_in;
    settings["signUpUrl"] = urls.portal_sign_up;
    settings["userProfileUrl"] = urls.portal_user_profile;
    settings["afterJoinWaitlistUrl"] = urls.home;
    settings["organizationProfileUrl"] = urls.organization_profile;
    settings["createOrganizationUrl"] = urls.create_organization;
    settings["afterSignInUrl"] = in_target ? *in_target : fallback;
    settings["afterSignUpUrl"] = up_target ? *up_target : fallback;
    settings["afterSignOutUrl"] = urls.portal_sign_in;
    settings["requestedTargets"] = in_target.has_value() || up_target.has_value();
    settings["allowedRedirectOrigins"] = std::move(redirect_origins);
    settings["appearance"] = appearance(brand);

    std::string const& name = a.cfg.application_name;
    std::string html;
    html.reserve(2048 + name.size() * 6);
    html +=
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>";
    append_markup_escaped(html, page_title(p));
    html += " \xC2\xB7 ";  // a middle dot
    append_markup_escaped(html, name);
    html += "</title>\n";
    if (auto icon = parse_redirect(brand.favicon_url)) {
        html += "<link rel=\"icon\" href=\"";
        append_markup_escaped(html, icon->url);
        html += "\">\n";
    }
    html += "<style nonce=\"";
    html += nonce;  // base64url: nothing to escape
    html +=
        "\">\n"
        "html,body{margin:0}\n"
        "body{min-height:100vh;box-sizing:border-box;display:flex;flex-direction:column;align-items:center;"
        "padding:48px 16px;font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;background:";
    html += brand.background_color.empty() ? std::string_view("#f4f4f5") : std::string_view(brand.background_color);
    html +=
        "}\n"
        "#latchkey-portal-bar{width:100%;max-width:60rem;display:flex;justify-content:flex-end;"
        "margin-bottom:16px;min-height:2.5rem}\n"
        ".latchkey-portal-error{max-width:30rem;color:#b42318;background:#fff;padding:16px;border-radius:8px}\n"
        "</style>\n"
        "<script type=\"application/json\" id=\"latchkey-portal-settings\">";
    html += json_for_script_block(settings);
    html += "</script>\n<script src=\"";
    append_markup_escaped(html, script_url(a, "@clerk/clerk-js", "clerk.browser.js"));
    html += "\" data-clerk-publishable-key=\"";
    append_markup_escaped(html, a.inst.publishable_key);
    html += "\" data-clerk-proxy-url=\"";
    append_markup_escaped(html, without_trailing_slash(a.inst.frontend_api));
    html += "\" crossorigin=\"anonymous\" defer></script>\n<script src=\"";
    append_markup_escaped(html, script_url(a, "@clerk/ui", "ui.browser.js"));
    html += "\" crossorigin=\"anonymous\" defer></script>\n<script src=\"";
    append_markup_escaped(html, a.inst.fapi_path_prefix);
    html +=
        "/portal/portal.js\" defer></script>\n"
        "</head>\n<body>\n";
    html += "<noscript>";
    append_markup_escaped(html, page_title(p));
    html += " needs JavaScript.</noscript>\n";
    if (p == page::user || p == page::organization || p == page::create_organization)
        html += "<div id=\"latchkey-portal-bar\"></div>\n";
    html += "<main id=\"latchkey-portal-root\"></main>\n</body>\n</html>\n";

    // CSP: connections and images also to the public FAPI origin (the page may be reached on another address
    // of the same listener), images from the configured logo and icon and the social providers' logos.
    std::string const fapi_origin = normalised_origin(a.inst.frontend_api);
    std::string img = "'self' data: blob:";
    auto add_img = [&img](std::string_view url) {
        auto o = normalised_origin(url);
        if (!o.empty() && img.find(" " + o) == std::string::npos) img += " " + o;
    };
    for (auto const* u : {&brand.logo_url, &brand.favicon_url, &fapi_origin}) add_img(*u);
    // The social buttons show each provider's configured logo (user_settings.social[...].logo_url).
    for (auto const& provider : a.cfg.oauth_providers) add_img(provider.logo_url);
    std::string csp = "default-src 'none'; script-src 'self'; style-src 'self' 'nonce-";
    csp += nonce;
    csp += "'";
    for (auto h : bundle_style_hashes) {
        csp += " '";
        csp += h;
        csp += "'";
    }
    csp += "; img-src ";
    csp += img;
    csp += "; connect-src 'self'";
    if (!fapi_origin.empty()) csp += " " + fapi_origin;
    csp +=
        "; font-src 'self' data:; worker-src 'self' blob:; manifest-src 'self'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'";

    page_security_headers(ctx, std::move(csp), "same-origin");
    ctx.headers.emplace_back("Cache-Control", "no-store");
    reply out;
    out.content_type = "text/html; charset=utf-8";
    out.body = std::move(html);
    return out;
}

// The bootstrap every portal page runs (served as /portal/portal.js, never inline). It reads the page's settings,
// takes the redirect parameters out of the address (the server already decided them; clerk-js would otherwise
// read its own from the URL), loads Clerk with @clerk/ui and mounts the page's components.
constexpr std::string_view portal_js = R"js((function () {
  'use strict';
  var settings = JSON.parse(document.getElementById('latchkey-portal-settings').textContent);
  var root = document.getElementById('latchkey-portal-root');

  function fail(what, err) {
    var box = document.createElement('p');
    box.className = 'latchkey-portal-error';
    box.setAttribute('role', 'alert');
    box.textContent = what + (err && err.message ? ': ' + err.message : '');
    root.replaceChildren(box);
  }

  // The redirect targets come from the server (api::allowed_redirect), never from the address: clerk-js puts
  // them in the hash when it builds a link to a hash-routed page (redirectToSignIn, "Sign up", "Add account"),
  // where the server cannot see them. Those move to the query and the page loads again, for the server to decide.
  var keys = ['redirect_url', 'after_sign_in_url', 'after_sign_up_url', 'sign_in_force_redirect_url',
    'sign_up_force_redirect_url', 'sign_in_fallback_redirect_url', 'sign_up_fallback_redirect_url'];
  var url = new URL(window.location.href);
  var route = url.hash.slice(1);
  var q = route.indexOf('?');
  if (q >= 0) {
    var hashParams = new URLSearchParams(route.slice(q + 1));
    var moved = false;
    keys.forEach(function (k) {
      if (hashParams.has(k)) {
        url.searchParams.set(k, hashParams.get(k));
        hashParams.delete(k);
        moved = true;
      }
    });
    if (moved) {
      var rest = hashParams.toString();
      url.hash = route.slice(0, q) + (rest ? '?' + rest : '');
      window.location.replace(url.toString());
      return;
    }
  }
  // What the server decided is all the address keeps.
  keys.forEach(function (k) { url.searchParams.delete(k); });
  if (settings.requestedTargets) {
    url.searchParams.set('sign_in_force_redirect_url', settings.afterSignInUrl);
    url.searchParams.set('sign_up_force_redirect_url', settings.afterSignUpUrl);
  }
  window.history.replaceState(window.history.state, '', url.pathname + url.search + url.hash);

  var clerk = window.Clerk;
  var ClerkUI = window.__internal_ClerkUICtor;
  if (!clerk || !ClerkUI) {
    fail('The Clerk SDK did not load');
    return;
  }
  var redirects = {
    signInForceRedirectUrl: settings.afterSignInUrl,
    signUpForceRedirectUrl: settings.afterSignUpUrl
  };
  clerk.load({
    ui: { ClerkUI: ClerkUI },
    appearance: settings.appearance,
    nonce: settings.nonce,
    allowedRedirectOrigins: settings.allowedRedirectOrigins,
    signInUrl: settings.signInUrl,
    signUpUrl: settings.signUpUrl,
    afterSignOutUrl: settings.afterSignOutUrl,
    signInForceRedirectUrl: settings.afterSignInUrl,
    signUpForceRedirectUrl: settings.afterSignUpUrl,
    telemetry: false
  }).then(function () {
    if (settings.page === 'sign-in') {
      clerk.mountSignIn(root, Object.assign({ routing: 'hash', signUpUrl: settings.signUpUrl,
        forceRedirectUrl: settings.afterSignInUrl }, redirects));
    } else if (settings.page === 'sign-up') {
      clerk.mountSignUp(root, Object.assign({ routing: 'hash', signInUrl: settings.signInUrl,
        forceRedirectUrl: settings.afterSignUpUrl }, redirects));
    } else if (settings.page === 'waitlist') {
      clerk.mountWaitlist(root, { signInUrl: settings.signInUrl, afterJoinWaitlistUrl: settings.afterJoinWaitlistUrl });
    } else if (!clerk.user) {
      var back = settings.page === 'organization' ? settings.organizationProfileUrl
        : settings.page === 'create-organization' ? settings.createOrganizationUrl : settings.userProfileUrl;
      clerk.redirectToSignIn({ signInForceRedirectUrl: back });
    } else if (settings.page === 'organization' || settings.page === 'create-organization') {
      // Organization pages: a switcher on top; the active organization's profile, or the list to pick one from
      // (picking reloads this page with it active); the creation form.
      var orgUrls = { afterCreateOrganizationUrl: settings.organizationProfileUrl,
        afterSelectOrganizationUrl: settings.organizationProfileUrl };
      clerk.mountOrganizationSwitcher(document.getElementById('latchkey-portal-bar'), Object.assign({
        createOrganizationUrl: settings.createOrganizationUrl, createOrganizationMode: 'navigation',
        organizationProfileUrl: settings.organizationProfileUrl, organizationProfileMode: 'navigation',
        afterLeaveOrganizationUrl: settings.organizationProfileUrl }, orgUrls));
      if (settings.page === 'create-organization') {
        clerk.mountCreateOrganization(root, { routing: 'hash',
          afterCreateOrganizationUrl: settings.organizationProfileUrl });
      } else if (clerk.organization) {
        clerk.mountOrganizationProfile(root, { routing: 'hash',
          afterLeaveOrganizationUrl: settings.organizationProfileUrl });
      } else {
        clerk.mountOrganizationList(root, Object.assign({ hidePersonal: true }, orgUrls));
      }
    } else {
      clerk.mountUserButton(document.getElementById('latchkey-portal-bar'), { showName: true });
      clerk.mountUserProfile(root, { routing: 'hash' });
    }
  }).catch(function (err) { fail('Clerk could not start', err); });
})();
)js";

constexpr auto portal_js_etag = etag_of(portal_js);

}  // namespace

account_urls account_urls_of(app const& a) {
    auto const& c = a.cfg;
    std::string const fapi = without_trailing_slash(a.inst.frontend_api);
    account_urls u;
    u.portal_sign_in = fapi + "/sign-in";
    u.portal_sign_up = fapi + "/sign-up";
    u.portal_user_profile = fapi + "/user";
    u.portal_waitlist = fapi + "/waitlist";
    u.organization_profile = fapi + "/organization";
    u.create_organization = fapi + "/create-organization";
    // Without a home URL, home is the app when the FAPI sits under the app's origin (a proxy prefix), else the
    // portal's own profile page: the FAPI's origin has no home page, and the components send people home after
    // signing in, switching accounts and more.
    if (!c.home_url.empty())
        u.home = without_trailing_slash(c.home_url);
    else if (!a.inst.fapi_path_prefix.empty())
        u.home = origin_of(a.inst.frontend_api);
    else
        u.home = u.portal_user_profile;
    u.sign_in = c.sign_in_url.empty() ? u.portal_sign_in : c.sign_in_url;
    u.sign_up = c.sign_up_url.empty() ? u.portal_sign_up : c.sign_up_url;
    u.user_profile = c.user_profile_url.empty() ? u.portal_user_profile : c.user_profile_url;
    u.waitlist = c.waitlist_url.empty() ? u.portal_waitlist : c.waitlist_url;
    u.after_sign_in = u.home;
    return u;
}

api_result<reply> get_portal_sign_in(app& a, request_ctx& ctx) { return serve_page(a, ctx, page::sign_in); }
api_result<reply> get_portal_sign_up(app& a, request_ctx& ctx) { return serve_page(a, ctx, page::sign_up); }
api_result<reply> get_portal_user(app& a, request_ctx& ctx) { return serve_page(a, ctx, page::user); }
api_result<reply> get_portal_waitlist(app& a, request_ctx& ctx) { return serve_page(a, ctx, page::waitlist); }
api_result<reply> get_portal_organization(app& a, request_ctx& ctx) { return serve_page(a, ctx, page::organization); }
api_result<reply> get_portal_create_organization(app& a, request_ctx& ctx) {
    return serve_page(a, ctx, page::create_organization);
}

api_result<reply> get_portal_script(app&, request_ctx& ctx) {
    std::string_view const etag = view_of(portal_js_etag);
    ctx.headers.emplace_back("ETag", std::string(etag));
    ctx.headers.emplace_back("Cache-Control", "no-cache");
    ctx.headers.emplace_back("X-Content-Type-Options", "nosniff");
    return embedded_file(ctx, "application/javascript; charset=utf-8", etag, portal_js);
}

}  // namespace latchkey::server::api::frontend
