#pragma once
// The client credential ("<client_id>.<secret>", see frontend/identity.hpp for how the FAPI issues and rotates it):
// its shape and its check, shared by the FAPI (resolving a browser's client) and the BAPI (verifying a client's
// token back to its client).
#include "server/api/app.hpp"
#include "store/records.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace latchkey::server::api::domain {

/// A new credential for `c`: sets c.credential_digest (the caller writes the record) and returns the token.
std::string new_client_credential(store::client_record& c);

/// The client id and secret of a token shaped as a client credential ("client_<id>.<secret>", bounded), or nullopt.
std::optional<std::pair<std::string_view, std::string_view>> split_client_credential(std::string_view token);

/// True when `secret` is `c`'s current credential secret (constant-time comparison).
bool credential_matches(app const& a, store::client_record const& c, std::string_view secret);

}  // namespace latchkey::server::api::domain
