#pragma once
// The console's static app (server/console/app/: HTML, CSS, one ES module), embedded in the binary by the build
// (server/console/embed.mjs precompresses every file with gzip and brotli and computes strong ETags). Nothing is
// read from disk at run time and nothing is fetched from anywhere.
#include <span>
#include <string_view>

namespace latchkey::console_assets {

/// One encoding of a file; an empty body means "not stored" (compression did not make it smaller).
struct representation {
    std::string_view body{};
    std::string_view etag{};  ///< quoted strong ETag
};

struct file {
    std::string_view name{};  ///< "index.html", "console.js", "console.css"
    std::string_view content_type{};
    representation identity{};
    representation gzip{};
    representation br{};
};

/// Every embedded file, sorted by name. Views into static storage.
std::span<file const> files() noexcept;

/// The file named `name` (compared byte for byte), or null.
file const* find(std::string_view name) noexcept;

}  // namespace latchkey::console_assets
