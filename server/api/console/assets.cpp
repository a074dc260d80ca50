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

api_result<reply> serve(request_ctx& ctx, console_assets::file const& f, std::string_view cache_control) {
    std::string_view ae;
    if (auto it = ctx.req.find(http::field::accept_encoding); it != ctx.req.end()) ae = it->value();
    console_assets::representation const* rep = &f.identity;
    std::string_view encoding;
    if (!f.br.body.empty() && frontend::accepted_q(ae, "br") > 0) {
        rep = &f.br;
        encoding = "br";
    } else if (!f.gzip.body.empty() && frontend::accepted_q(ae, "gzip") > 0) {
        rep = &f.gzip;
        encoding = "gzip";
    }
    ctx.headers.emplace_back("ETag", std::string(rep->etag));
    ctx.headers.emplace_back("Cache-Control", std::string(cache_control));
    ctx.headers.emplace_back("Vary", "Accept-Encoding");
    frontend::page_security_headers(ctx, std::string(csp), "no-referrer");
    ctx.headers.emplace_back("Cross-Origin-Resource-Policy", "same-origin");
    return frontend::embedded_file(ctx, f.content_type, rep->etag, rep->body, encoding);
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
