#pragma once
// Clerk's metadata PATCH, shared by the FAPI (/v1/me unsafe_metadata) and the BAPI (users, organizations).
#include <boost/json/object.hpp>

namespace latchkey::server::api::domain {

/// Deep merge: objects merge key by key (recursively), null deletes a key, anything else replaces.
void merge_metadata(boost::json::object& into, boost::json::object const& patch);

}  // namespace latchkey::server::api::domain
