#include "server/api/domain/metadata.hpp"

namespace latchkey::server::api::domain {

void merge_metadata(boost::json::object& into, boost::json::object const& patch) {
    for (auto const& kv : patch) {
        if (kv.value().is_null()) {
            into.erase(kv.key());
            continue;
        }
        if (kv.value().is_object()) {
            if (auto* cur = into.if_contains(kv.key()); cur != nullptr && cur->is_object()) {
                merge_metadata(cur->as_object(), kv.value().as_object());
                continue;
            }
        }
        into[kv.key()] = kv.value();
    }
}

}  // namespace latchkey::server::api::domain
