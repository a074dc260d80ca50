#pragma once
// Uploaded images (issue 14): profile images and organization logos. One rule set for the FAPI and the BAPI:
// how an upload is read (multipart/form-data `file`, or a raw application/octet-stream body), which files are
// accepted (PNG, JPEG, GIF, WebP by their magic bytes; at most cfg.max_image_bytes), where an image is served
// (<frontend_api>/v1/images/{id}, an immutable URL: a new upload gets a new id) and how an owner's image is
// replaced or removed inside the owner's write txn.
#include "server/api/context.hpp"
#include "store/store.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace latchkey::server::api::images {

/// The content type of an accepted image format recognised by its magic bytes, or nullopt.
std::optional<std::string_view> sniff(std::string_view bytes) noexcept;

struct upload {
    std::string bytes;
    std::string name;  ///< the part's filename ("" for a raw body)
    std::string_view content_type;
};

/// Reads the request's file: 422 form_param_missing (file) without one, 400 request_body_invalid for a broken
/// multipart body, 413 request_body_too_large over cfg.max_image_bytes, 422 form_param_value_invalid for an
/// empty file and 422 form_param_format_invalid when it is not PNG/JPEG/GIF/WebP.
api_result<upload> read_upload(app const& a, request_ctx const& ctx);

/// The image id in one of our image URLs (whatever its origin), or "" for any other URL.
std::string_view id_in(std::string_view url) noexcept;

/// The public URL of image `id`.
std::string url_of(app const& a, std::string_view id);

/// Makes `up` the image of `owner_id`: stores it, removes the owner's previous image (the one `image_url`
/// points at, if it is ours and the owner's) and points `image_url` at the new one. Returns the stored record.
api_result<store::image_record> attach(app const& a, request_ctx const& ctx, store::write_txn& w,
                                       std::string& image_url, std::string_view owner_id, upload up);

/// Removes the image `image_url` points at when it is one of ours owned by `owner_id`, and clears `image_url`.
/// For deleting an image and for deleting its owner (same txn).
api_result<void> detach(store::write_txn& w, std::string& image_url, std::string_view owner_id);

/// Clerk's Image object: {"object":"image","id","name","public_url"}.
boost::json::object image_json(app const& a, store::image_record const& img);

/// FAPI GET /v1/images/{image_id}: the bytes with their content type, a strong ETag (If-None-Match: 304),
/// long-lived caching, nosniff and a CSP sandbox (an upload can never run as a page on the FAPI's origin).
/// Query parameters (`?width=` from clerk-js's srcset) are ignored.
api_result<reply> get_image(app& a, request_ctx& ctx);

}  // namespace latchkey::server::api::images
