// Static files of the FAPI: the Clerk browser SDK bundles under /npm/ (what @clerk/shared's loadClerkJSScript and
// loadClerkUIScript hot-load from the FAPI host) and the default avatar. Everything comes from data embedded in
// the binary: no file is read, and a request can only ever name an embedded file or get a 404.
#include "server/api/frontend/handlers.hpp"
#include "server/api/frontend/static_file.hpp"

#include "bundles/bundles.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace latchkey::server::api::frontend {

namespace json = boost::json;

namespace {

/// Exact versions never change: cache them for a year. Majors and tags move with a bump: five minutes.
constexpr std::string_view cache_immutable = "public, max-age=31536000, immutable";
constexpr std::string_view cache_moving = "public, max-age=300";

/// npm dist-tags and the prerelease tags @clerk/shared's versionSelector sends (an SDK built from a canary or
/// snapshot asks for its tag): all answered with the build shipped for that package.
constexpr std::string_view tags[] = {"latest", "next", "canary", "snapshot", "beta", "alpha", "rc", "staging"};

enum class resolution { none, exact, moving };

/// How `selector` (the part after '@' in "clerk-js@6") names `version`: exactly, as its major, its
/// major.minor or a tag (moving), or not at all. An empty selector ("@clerk/ui/dist/...") is the latest.
resolution resolve(std::string_view selector, std::string_view version) {
    if (selector == version) return resolution::exact;
    if (selector.empty()) return resolution::moving;
    auto const major_end = version.find('.');
    auto const minor_end = version.find('.', major_end == std::string_view::npos ? 0 : major_end + 1);
    if (selector == version.substr(0, major_end) || selector == version.substr(0, minor_end)) return resolution::moving;
    if (std::find(std::begin(tags), std::end(tags), selector) != std::end(tags)) return resolution::moving;
    return resolution::none;
}

/// `text` when it is short and plain enough to quote back in an error message, else "".
std::string_view quotable(std::string_view text) {
    if (text.empty() || text.size() > 100) return {};
    for (char c : text) {
        bool const ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '@' ||
                        c == '.' || c == '_' || c == '-' || c == '/' || c == '+';
        if (!ok) return {};
    }
    return text;
}

/// 404 resource_not_found naming what this server ships (meta.shipped: ["@clerk/clerk-js@6.40.0", ...]).
api_error not_shipped(std::string_view what) {
    api_error e = make_error(code::resource_not_found);
    json::array shipped;
    std::string list;
    for (auto const& p : bundles::packages()) {
        std::string id = std::string(p.name) + "@" + std::string(p.version);
        if (!list.empty()) list += ", ";
        list += id;
        shipped.emplace_back(id);
    }
    e.long_message = std::string(what.empty() ? std::string_view("The requested file") : what) +
                     " is not served here. This server ships " + list +
                     " (under /npm/<package>@<version, major or "
                     "tag>/dist/).";
    e.meta["shipped"] = std::move(shipped);
    return e;
}

/// The headers every static file carries: cross-origin <script>/<img> loads need CORS (the SDK sets
/// crossorigin="anonymous") and CORP (pages with COEP); Timing-Allow-Origin lets the SDK's loader read the
/// Resource Timing entry it uses to tell a failed script request from a slow one.
void static_headers(request_ctx& ctx, std::string_view etag, std::string_view cache_control) {
    ctx.headers.emplace_back("ETag", std::string(etag));
    ctx.headers.emplace_back("Cache-Control", std::string(cache_control));
    ctx.headers.emplace_back("Access-Control-Allow-Origin", "*");
    ctx.headers.emplace_back("Cross-Origin-Resource-Policy", "cross-origin");
    ctx.headers.emplace_back("Timing-Allow-Origin", "*");
    ctx.headers.emplace_back("X-Content-Type-Options", "nosniff");
}

api_result<reply> serve(request_ctx& ctx, std::string_view content_type, bundles::representation const& r,
                        std::string_view encoding, std::string_view cache_control, bool varies) {
    static_headers(ctx, r.etag, cache_control);
    if (varies) ctx.headers.emplace_back("Vary", "Accept-Encoding");
    return embedded_file(ctx, content_type, r.etag, r.body, encoding);
}

// A plain silhouette on a neutral disc (what Clerk shows for a user without a picture), 128x128.
constexpr std::string_view default_avatar_svg =
    R"(<svg xmlns="http://www.w3.org/2000/svg" width="128" height="128" viewBox="0 0 128 128">)"
    R"(<rect width="128" height="128" fill="#E3E4E8"/>)"
    R"(<circle cx="64" cy="50" r="22" fill="#A3A7B3"/>)"
    R"(<path d="M22 116c3-22 20-36 42-36s39 14 42 36z" fill="#A3A7B3"/></svg>)";

constexpr auto default_avatar_etag = etag_of(default_avatar_svg);

}  // namespace

api_result<reply> get_npm_file(app&, request_ctx& ctx) {
    // /npm/{scope}/{package}/dist/{file} ("@clerk", "clerk-js@6") or, unscoped, /npm/{package}/dist/{file}.
    std::string_view const scope = ctx.params.get("scope");
    std::string_view const spec = ctx.params.get("package");
    std::string_view const file_name = ctx.params.get("file");
    std::string requested(scope);
    if (!scope.empty()) requested += '/';
    requested += spec;
    // The version selector follows the last '@' (a scoped name's own '@' is in `scope`).
    auto const at = spec.rfind('@');
    std::string name(scope);
    if (!scope.empty()) name += '/';
    name += spec.substr(0, at);
    std::string_view const selector = at == std::string_view::npos ? std::string_view{} : spec.substr(at + 1);

    bundles::package const* pkg = bundles::find_package(name);
    if (pkg == nullptr) return not_shipped(quotable(requested));
    auto const how = resolve(selector, pkg->version);
    if (how == resolution::none) return not_shipped(quotable(requested));
    bundles::file const* f = bundles::find_file(*pkg, file_name);
    if (f == nullptr) {
        requested += "/dist/";
        requested += file_name;
        return not_shipped(quotable(requested));
    }

    std::string_view accept;
    if (auto it = ctx.req.find(http::field::accept_encoding); it != ctx.req.end()) accept = it->value();
    auto const cache = how == resolution::exact ? cache_immutable : cache_moving;
    bool const varies = !f->br.body.empty() || !f->gzip.body.empty();
    double const q_br = f->br.body.empty() ? 0 : accepted_q(accept, "br");
    double const q_gzip = f->gzip.body.empty() ? 0 : accepted_q(accept, "gzip");
    if (q_br > 0 && q_br >= q_gzip) return serve(ctx, f->content_type, f->br, "br", cache, varies);
    if (q_gzip > 0) return serve(ctx, f->content_type, f->gzip, "gzip", cache, varies);
    return serve(ctx, f->content_type, f->identity, {}, cache, varies);
}

api_result<reply> get_default_avatar(app&, request_ctx& ctx) {
    std::string_view const etag = view_of(default_avatar_etag);
    static_headers(ctx, etag, "public, max-age=86400");
    // An SVG on the FAPI's origin: no script, no external loads, whatever a future edit of it puts inside.
    ctx.headers.emplace_back("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
    return embedded_file(ctx, "image/svg+xml", etag, default_avatar_svg);
}

double accepted_q(std::string_view accept_encoding, std::string_view coding) {
    double star = 0;
    bool star_seen = false;
    while (!accept_encoding.empty()) {
        auto comma = accept_encoding.find(',');
        std::string_view item = accept_encoding.substr(0, comma);
        accept_encoding = comma == std::string_view::npos ? std::string_view{} : accept_encoding.substr(comma + 1);
        auto semi = item.find(';');
        std::string_view token = trim_ows(item.substr(0, semi));
        double q = 1;
        if (semi != std::string_view::npos) {
            std::string_view params = item.substr(semi + 1);
            auto qpos = params.find("q=");
            if (qpos != std::string_view::npos) {
                // qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
                std::string_view v = params.substr(qpos + 2);
                q = 0;
                if (!v.empty() && v.front() == '1') {
                    q = 1;
                } else if (v.size() >= 3 && v[0] == '0' && v[1] == '.') {
                    double scale = 0.1;
                    for (std::size_t i = 2; i < v.size() && i < 5 && v[i] >= '0' && v[i] <= '9'; ++i, scale /= 10)
                        q += (v[i] - '0') * scale;
                }
            }
        }
        if (token.size() == coding.size() && std::equal(token.begin(), token.end(), coding.begin(),
                                                        [](char x, char y) { return (x | 0x20) == (y | 0x20); }))
            return q;
        if (token == "*") {
            star = q;
            star_seen = true;
        }
    }
    return star_seen ? star : 0;
}

void page_security_headers(request_ctx& ctx, std::string csp, std::string_view referrer_policy) {
    ctx.headers.emplace_back("Content-Security-Policy", std::move(csp));
    ctx.headers.emplace_back("X-Frame-Options", "DENY");
    ctx.headers.emplace_back("Referrer-Policy", std::string(referrer_policy));
    ctx.headers.emplace_back("X-Content-Type-Options", "nosniff");
    ctx.headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
}

reply embedded_file(request_ctx& ctx, std::string_view content_type, std::string_view etag, std::string_view body,
                    std::string_view encoding) {
    reply out;
    out.content_type = content_type;
    if (none_match(ctx, etag)) {
        out.status = http::status::not_modified;
        return out;
    }
    if (!encoding.empty()) ctx.headers.emplace_back("Content-Encoding", std::string(encoding));
    out.static_body = body;
    return out;
}

bool none_match(request_ctx const& ctx, std::string_view etag) {
    for (auto it = ctx.req.find(http::field::if_none_match);
         it != ctx.req.end() && it->name() == http::field::if_none_match; ++it) {
        std::string_view v = it->value();
        while (!v.empty()) {
            auto comma = v.find(',');
            std::string_view item = trim_ows(v.substr(0, comma));
            v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
            if (item == "*") return true;
            if (item.starts_with("W/")) item.remove_prefix(2);
            if (item == etag) return true;
        }
    }
    return false;
}

}  // namespace latchkey::server::api::frontend
