#include "server/api/images/images.hpp"

#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "crypto/random.hpp"
#include "server/api/frontend/static_file.hpp"
#include "server/api/txn.hpp"
#include "server/http/multipart.hpp"

namespace latchkey::server::api::images {

namespace {

constexpr std::string_view path_prefix = "/v1/images/";
constexpr std::string_view id_prefix = "img_";

std::string_view header(request_ctx const& ctx, http::field f) {
    auto it = ctx.req.find(f);
    return it == ctx.req.end() ? std::string_view{} : std::string_view(it->value());
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != prefix[i]) return false;
    }
    return true;
}

}  // namespace

std::optional<std::string_view> sniff(std::string_view b) noexcept {
    using namespace std::string_view_literals;
    if (b.starts_with("\x89PNG\r\n\x1a\n"sv)) return "image/png";
    if (b.starts_with("\xff\xd8\xff"sv)) return "image/jpeg";
    if (b.starts_with("GIF87a"sv) || b.starts_with("GIF89a"sv)) return "image/gif";
    if (b.size() >= 12 && b.starts_with("RIFF"sv) && b.substr(8, 4) == "WEBP"sv) return "image/webp";
    return std::nullopt;
}

api_result<upload> read_upload(app const& a, request_ctx const& ctx) {
    std::string_view const type = header(ctx, http::field::content_type);
    std::string_view const body = ctx.req.body();
    upload up;
    std::string_view data;
    if (starts_with_ci(type, "multipart/form-data")) {
        std::vector<multipart_part> parts;
        if (parse_multipart(type, body, parts) != multipart_status::ok) return make_error(code::request_body_invalid);
        auto const* file = find_part(parts, "file");
        if (file == nullptr) return param_error(code::form_param_missing, "file", "Send the image in a `file` part.");
        data = file->data;
        up.name = std::string(file->filename.substr(0, 256));
    } else if (starts_with_ci(type, "application/octet-stream")) {
        data = body;
    } else {
        return param_error(code::form_param_missing, "file",
                           "Send the image as multipart/form-data (a `file` part) or application/octet-stream.");
    }
    // A raw body may also be base64 text (the spec's "format: base64"), e.g. from a string `file` in clerk-js.
    std::string decoded;
    if (!data.empty() && !sniff(data) && data.size() <= (std::size_t{a.cfg.max_image_bytes} / 3 + 1) * 4 + 4) {
        std::string_view text = data;
        if (text.starts_with("data:"))
            if (auto comma = text.find(','); comma != std::string_view::npos) text.remove_prefix(comma + 1);
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
        if (auto d = crypto::base64_decode(text)) {
            decoded = std::move(*d);
            data = decoded;
        }
    }
    if (data.size() > a.cfg.max_image_bytes) {
        auto e = param_error(code::request_body_too_large, "file");
        e.long_message = "The image is larger than " + std::to_string(a.cfg.max_image_bytes) + " bytes.";
        return e;
    }
    if (data.empty()) return param_error(code::form_param_value_invalid, "file", "The image file is empty.");
    auto const kind = sniff(data);
    if (!kind)
        return param_error(code::form_param_format_invalid, "file", "The file must be a PNG, JPEG, GIF or WebP image.");
    up.content_type = *kind;
    up.bytes = decoded.empty() ? std::string(data) : std::move(decoded);
    return up;
}

std::string_view id_in(std::string_view url) noexcept {
    // Any origin: the FAPI's address may have changed since the URL was stored.
    auto at = url.rfind(path_prefix);
    if (at == std::string_view::npos) return {};
    std::string_view id = url.substr(at + path_prefix.size());
    id = id.substr(0, id.find_first_of("?#"));
    if (!id.starts_with(id_prefix) || id.find('/') != std::string_view::npos) return {};
    return id;
}

std::string url_of(app const& a, std::string_view id) {
    std::string u = a.inst.frontend_api;
    u += path_prefix;
    u += id;
    return u;
}

api_result<void> detach(store::write_txn& w, std::string& image_url, std::string_view owner_id) {
    if (auto id = id_in(image_url); !id.empty()) {
        auto old = w.images().get(id);
        if (!old) return store_error(old.error(), "get_image");
        if (*old && (*old)->owner_id == owner_id)
            if (auto r = w.images().remove(id); !r) return store_error(r.error(), "remove_image");
    }
    image_url.clear();
    return {};
}

api_result<store::image_record> attach(app const& a, request_ctx const& ctx, store::write_txn& w,
                                       std::string& image_url, std::string_view owner_id, upload up) {
    if (auto r = detach(w, image_url, owner_id); !r) return r.error();
    store::image_record img;
    img.id = crypto::new_id(id_prefix);
    img.owner_id = std::string(owner_id);
    img.content_type = std::string(up.content_type);
    img.name = std::move(up.name);
    img.digest = crypto::hex_encode(crypto::sha256(up.bytes));
    img.bytes = std::move(up.bytes);
    img.created_at = ctx.now;
    if (auto r = w.images().put(img); !r) return store_error(r.error(), "put_image");
    image_url = url_of(a, img.id);
    return img;
}

boost::json::object image_json(app const& a, store::image_record const& img) {
    boost::json::object o;
    o["object"] = "image";
    o["id"] = img.id;
    o["name"] = img.name;
    o["public_url"] = url_of(a, img.id);
    return o;
}

api_result<reply> get_image(app& a, request_ctx& ctx) {
    std::string_view const id = ctx.params.get("image_id");
    if (!id.starts_with(id_prefix)) return make_error(code::resource_not_found);
    auto img = txn::read<std::optional<store::image_record>>(a, "get_image",
                                                             [&](store::read_txn& t) { return t.images().get(id); });
    if (!img) return img.error();
    if (!*img) return make_error(code::resource_not_found);
    auto const kind = sniff((*img)->bytes);  // a static string for the reply, and the stored type re-checked
    if (!kind || *kind != (*img)->content_type) return make_error(code::resource_not_found);
    std::string const etag = "\"" + (*img)->digest + "\"";
    ctx.headers.emplace_back("ETag", etag);
    // The URL names one upload forever (a new upload gets a new id), so caches may keep it.
    ctx.headers.emplace_back("Cache-Control", "public, max-age=31536000, immutable");
    ctx.headers.emplace_back("Access-Control-Allow-Origin", "*");
    ctx.headers.emplace_back("Cross-Origin-Resource-Policy", "cross-origin");
    ctx.headers.emplace_back("X-Content-Type-Options", "nosniff");
    // Never a document on the FAPI's origin: no scripts, no plugins, a unique origin if navigated to.
    ctx.headers.emplace_back("Content-Security-Policy", "default-src 'none'; sandbox");
    ctx.headers.emplace_back("Content-Disposition", "inline; filename=\"" + std::string(id) + "." +
                                                        std::string(kind->substr(kind->find('/') + 1)) + "\"");
    reply out;
    out.content_type = *kind;
    if (frontend::none_match(ctx, etag)) {
        out.status = http::status::not_modified;
        return out;
    }
    out.body = std::move((*img)->bytes);
    return out;
}

}  // namespace latchkey::server::api::images
