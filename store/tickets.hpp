#pragma once
// The tickets family: the one-time credentials an operator issues through the BAPI and a browser redeems through
// the FAPI (`strategy: ticket`): sign-in tokens, actor tokens (impersonation) and application invitations. One
// record type with a `kind`; the ticket itself ("<id>.<secret>") is never stored, only the SHA-256 of its secret.
//
// Written once, backend-neutral, over the same ordered key-value seam as the organizations family (`org_kv`):
// each backend lends it one table of its own ("tickets"). Keys:
//   r\0<id>                    -> ticket record
//   k\0<kind>\0<id>            -> "" (by kind, oldest first: ids are time-ordered)
//   e\0<email>\0<id>           -> "" (invitations by address)
#include "store/error.hpp"
#include "store/kv_table.hpp"

#include <boost/describe/class.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::store {

struct ticket_record {
    std::string id;             ///< sit_ (sign-in token), act_ (actor token), inv_ (invitation)
    std::string kind;           ///< sign_in_token | actor_token | invitation
    std::string status;         ///< pending | accepted | revoked (an invitation past expires_at renders as expired)
    std::string digest;         ///< SHA-256 (hex) of the ticket's secret; never the secret
    std::string user_id;        ///< sign-in and actor tokens: the user signed in as
    std::string email_address;  ///< invitations: lowercased
    std::string actor;          ///< actor tokens: the actor JSON object (text)
    std::string public_metadata = "{}";       ///< invitations: becomes the new user's public metadata
    std::string redirect_url;                 ///< invitations: where the link points
    std::string organization_id;              ///< sign-in tokens: the organization to activate ("" = none)
    std::int64_t expires_at = 0;              ///< ms; 0 = never
    std::int64_t session_max_duration_s = 0;  ///< actor tokens: the session's longest life
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
};
BOOST_DESCRIBE_STRUCT(ticket_record, (),
                      (id, kind, status, digest, user_id, email_address, actor, public_metadata, redirect_url,
                       organization_id, expires_at, session_max_duration_s, created_at, updated_at))

class tickets_view : public kv_reader {
public:
    using kv_reader::kv_reader;

    result<std::optional<ticket_record>> get(std::string_view id) const noexcept;
    /// Every ticket of `kind`, oldest first.
    result<std::vector<ticket_record>> list(std::string_view kind) const noexcept;
    /// Every invitation to `email` (lowercased), oldest first.
    result<std::vector<ticket_record>> invitations_to(std::string_view email) const noexcept;

protected:
    ~tickets_view() = default;
};

class tickets_repo : public kv_writer<tickets_view> {
public:
    using kv_writer::kv_writer;

    /// Inserts or replaces a ticket (its kind and address never change).
    result<void> put(ticket_record const& t) noexcept;
    /// Removes a ticket and its index entries (a deleted user's tokens).
    result<void> remove(std::string_view id) noexcept;

protected:
    ~tickets_repo() = default;
};

}  // namespace latchkey::store
