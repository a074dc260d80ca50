#include "bundles/bundles.hpp"

#include <algorithm>

namespace latchkey::bundles {

package const* find_package(std::string_view name) noexcept {
    for (auto const& p : packages())
        if (p.name == name) return &p;
    return nullptr;
}

file const* find_file(package const& p, std::string_view name) noexcept {
    auto it = std::lower_bound(p.files.begin(), p.files.end(), name,
                               [](file const& f, std::string_view n) { return f.name < n; });
    return it != p.files.end() && it->name == name ? &*it : nullptr;
}

}  // namespace latchkey::bundles
