// The console's static app on the backend listener: the document at /console and its assets under
// /console/assets/, from data embedded in the binary (server/console/assets.hpp), precompressed (brotli or gzip
// as the browser accepts), with strong ETags, and a strict Content-Security-Policy: scripts, styles, images and
// connections from the listener's own origin only, no inline script or style, no framing.
#include "server/api/console/handlers.hpp"

#include "server/api/frontend/static_file.hpp"
#include "server/console/assets.hpp"

#include <string>
#include <string_view>

namespace latchkey::server::api::console {

namespace {

constexpr std::string_view csp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// True when Accept-Encoding lists `coding` with a q-value above zero.
bool accepts(std::string_view accept_encoding, std::string_view coding) {
    while (!accept_encoding.empty()) {
        auto comma = accept_encoding.find(',');
        std::string_view item = accept_encoding.substr(0, comma);
        accept_encoding = comma == std::string_view::npos ? std::string_view{} : accept_encoding.substr(comma + 1);
        auto semi = item.find(';');
        std::string_view token = trim_ows(item.substr(0, semi));
        if (token != coding) continue;
        if (semi == std::string_view::npos) return true;
        std::string_view params = trim_ows(item.substr(semi + 1));
        if (!params.starts_with("q=")) return true;
        params.remove_prefix(2);
        // q=0, q=0.0, q=0.00, q=0.000 refuse; anything else accepts.
        return params.find_first_not_of("0.") != std::string_view::npos;
    }
    return false;
}

api_result<reply> serve(request_ctx& ctx, console_assets::file const& f, std::string_view cache_control) {
    std::string_view ae;
    if (auto it = ctx.req.find(http::field::accept_encoding); it != ctx.req.end()) ae = it->value();
    console_assets::representation const* rep = &f.identity;
    std::string_view encoding;
    if (!f.br.body.empty() && accepts(ae, "br")) {
        rep = &f.br;
        encoding = "br";
    } else if (!f.gzip.body.empty() && accepts(ae, "gzip")) {
        rep = &f.gzip;
        encoding = "gzip";
    }
    ctx.headers.emplace_back("ETag", std::string(rep->etag));
    ctx.headers.emplace_back("Cache-Control", std::string(cache_control));
    ctx.headers.emplace_back("Vary", "Accept-Encoding");
    ctx.headers.emplace_back("Content-Security-Policy", std::string(csp));
    ctx.headers.emplace_back("X-Content-Type-Options", "nosniff");
    ctx.headers.emplace_back("X-Frame-Options", "DENY");
    ctx.headers.emplace_back("Referrer-Policy", "no-referrer");
    ctx.headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
    ctx.headers.emplace_back("Cross-Origin-Resource-Policy", "same-origin");
    reply out;
    out.content_type = f.content_type;
    if (frontend::none_match(ctx, rep->etag)) {
        out.status = http::status::not_modified;
        return out;
    }
    if (!encoding.empty()) ctx.headers.emplace_back("Content-Encoding", std::string(encoding));
    out.static_body = rep->body;
    return out;
}

}  // namespace

api_result<reply> get_page(app&, request_ctx& ctx) {
    auto const* f = console_assets::find("index.html");
    if (f == nullptr) return make_error(code::resource_not_found);
    // The document is revalidated on every load (its ETag makes that a 304), so a new build shows at once.
    return serve(ctx, *f, "no-cache");
}

api_result<reply> get_asset(app&, request_ctx& ctx) {
    auto const name = ctx.params.get("file");
    auto const* f = name == "index.html" ? nullptr : console_assets::find(name);
    if (f == nullptr) return make_error(code::resource_not_found);
    return serve(ctx, *f, "no-cache");
}

}  // namespace latchkey::server::api::console
