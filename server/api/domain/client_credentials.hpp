#pragma once
// The client credential ("<client_id>.<secret>", see frontend/identity.hpp for how the FAPI issues and rotates it):
// its shape and its check, shared by the FAPI (resolving a browser's client) and the BAPI (verifying a client's
// token back to its client).
#include "server/api/app.hpp"
#include "server/api/error.hpp"
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

// ---- secrets handed out once as "<record id>.<secret>" (invitation tickets); the store keeps their digest ----

/// Hex SHA-256 of a secret handed out once: what the store keeps in its place.
std::string secret_digest_hex(std::string_view secret);

/// A ticket "<record id>.<secret>" taken apart: the record's id and the digest of the secret (secret_digest_hex).
struct ticket_parts {
    std::string_view id;
    std::string digest;
};
/// nullopt when `ticket` is not shaped as one (no '.', an empty id, longer than 256 bytes).
std::optional<ticket_parts> split_ticket(std::string_view ticket);

/// 422 form_param_value_invalid (param_name "ticket"): the invitation ticket is invalid or used.
api_error invalid_ticket();

}  // namespace latchkey::server::api::domain
