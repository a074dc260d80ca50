#pragma once
// The waitlist: entries people join (FAPI POST /v1/waitlist) and the operator invites or rejects (BAPI
// /v1/waitlist_entries). Kept apart from store/db.hpp: two tables of its own in the same LMDB environment,
// opened once, used inside the caller's txns (so a sign-up completes its entry in the txn that creates the user).
//
// Tables: waitlist_entries (wle_ id -> waitlist_entry_record), waitlist_by_email (lowercased email -> id,
// unique: one entry per address). Ids are time-ordered, so key order is creation order.
#include "store/error.hpp"
#include "store/lmdb.hpp"

#include <boost/describe/class.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::store {

struct waitlist_entry_record {
    std::string id;             ///< wle_...
    std::string email_address;  ///< lowercased
    std::string status;         ///< pending | invited | rejected | completed
    std::string invitation_id;  ///< inv_... ("" = never invited)
    std::string ticket_digest;  ///< SHA-256 (hex) of the invitation ticket's secret; never the secret
    std::string invitation_status;  ///< pending | accepted | revoked ("" = no invitation)
    std::int64_t invited_at = 0;    ///< ms since epoch
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
};
BOOST_DESCRIBE_STRUCT(waitlist_entry_record, (), (id, email_address, status, invitation_id, ticket_digest,
    invitation_status, invited_at, created_at, updated_at))

/// BAPI list filter: `query` is a case-insensitive substring of the email address or the id; `status` exact;
/// order_by [+|-]created_at|email_address|invited_at (default -created_at; anything else is refused by the API).
struct waitlist_filter {
    std::string query;
    std::string status;
    std::string order_by = "-created_at";
    std::size_t limit = 10;
    std::size_t offset = 0;
};

class waitlist {
public:
    /// Opens (creating if missing) the two tables in `e`, in one write txn of their own.
    static result<waitlist> open(env const& e) noexcept;
    waitlist() = default;

    /// Inserts or updates an entry and its email index. An insert whose address already has an entry is
    /// errc::key_exists; the address of an entry never changes.
    result<void> put(write_txn& w, waitlist_entry_record const& r, bool insert) const noexcept;
    result<void> remove(write_txn& w, waitlist_entry_record const& r) const noexcept;
    result<std::optional<waitlist_entry_record>> get(txn const& t, std::string_view id) const noexcept;
    /// The entry for an address (already lowercased), if any.
    result<std::optional<waitlist_entry_record>> by_email(txn const& t, std::string_view email) const noexcept;
    /// Entries matching f, ordered, paged; `*total` = matches before paging.
    result<std::vector<waitlist_entry_record>> list(txn const& t, waitlist_filter const& f,
                                                    std::size_t* total) const noexcept;
    result<std::size_t> count(txn const& t) const noexcept;

private:
    MDB_dbi entries_ = 0, by_email_ = 0;
};

}  // namespace latchkey::store
