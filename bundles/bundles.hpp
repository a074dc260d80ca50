#pragma once
// The Clerk browser SDK bundles embedded in the binary (@clerk/clerk-js, @clerk/ui: the npm packages pinned in
// bundles/package-lock.json, fetched and precompressed by the build). Read-only data: no file is ever read at
// run time. The table itself is generated (bundles/embed.mjs -> <build>/bundles/embedded.cpp).
#include <span>
#include <string_view>

namespace latchkey::bundles {

/// One encoding of a file: the body and its strong ETag (quoted). An empty body means "not stored" (the
/// compressed form was not smaller than the original).
struct representation {
    std::string_view body{};
    std::string_view etag{};
};

struct file {
    std::string_view name{};          ///< "clerk.browser.js": a name directly under the package's dist/
    std::string_view content_type{};  ///< "application/javascript; charset=utf-8"
    representation identity{};
    representation gzip{};
    representation br{};
};

struct package {
    std::string_view name{};     ///< "@clerk/clerk-js"
    std::string_view version{};  ///< "6.40.0"
    std::span<file const> files{};  ///< sorted by name
};

/// Every embedded package, in the order of bundles/package.json. Views into static storage: valid for the
/// whole process, safe to share across threads.
std::span<package const> packages() noexcept;

/// The package named `name` ("@clerk/ui"), or null.
package const* find_package(std::string_view name) noexcept;

/// The file `name` of `p`, or null. `name` is compared byte for byte with the embedded names, so no path
/// syntax ("..", "/", "\", NUL, escapes) can ever match anything else.
file const* find_file(package const& p, std::string_view name) noexcept;

}  // namespace latchkey::bundles
