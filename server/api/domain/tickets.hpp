#pragma once
// Tickets (issue 14): every one-time credential that a link or an SDK call hands to `strategy: ticket` goes
// through here — one kind enum and one lookup. Kinds: the waitlist's invitations (domain/waitlist), organization
// invitations (organizations/orgs), application invitations, sign-in tokens and actor tokens (the tickets
// family, store/tickets.hpp).
//
// A ticket is "<id>.<secret>": the id names the record (its prefix the kind), the secret is 32 random bytes
// (base64url) of which the record keeps only the SHA-256, compared in constant time. Each is single use.
#include "server/api/app.hpp"
#include "server/api/error.hpp"
#include "store/store.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace latchkey::server::api::domain {

enum class ticket_kind { waitlist_invitation, organization_invitation, invitation, sign_in_token, actor_token };

/// The kind a ticket names by its id prefix; nothing for a ticket that is no ticket of ours.
std::optional<ticket_kind> ticket_kind_of(std::string_view ticket);

/// The record a valid ticket names (exactly one of the optionals is set, by kind).
struct found_ticket {
    ticket_kind kind{};
    std::optional<store::waitlist_entry_record> waitlist;
    std::optional<store::org_invitation_record> org_invitation;
    std::optional<store::ticket_record> ticket;
    /// The address an invitation names ("" for sign-in and actor tokens).
    std::string email() const;
};

/// THE ticket lookup: the pending, unexpired record `ticket` names, or Clerk's error — 422 form_param_value_invalid
/// (param ticket) for a malformed or unknown ticket or a wrong secret; for the tickets family 400
/// <kind>_revoked / <kind>_already_used / invitation_already_accepted / ticket_expired.
api_result<found_ticket> find_ticket(app& a, store::read_txn const& t, std::string_view ticket, std::int64_t now);

/// Inside a write txn: the tickets-family record `id` again (a concurrent redemption may have won), still
/// pending and unexpired, marked accepted and written. Returns the record as it was.
api_result<store::ticket_record> redeem_ticket(store::write_txn& w, std::string_view id, std::int64_t now);

/// A new pending record of `kind` ("sign_in_token" | "actor_token" | "invitation") with a fresh secret; returns
/// the ticket text (shown once: at creation). The caller fills the rest and writes it.
std::string new_ticket(store::ticket_record& r, std::string_view kind, std::int64_t now, std::int64_t expires_at);

/// The link a sign-in or actor token's `url` carries: the FAPI's /v1/tickets/accept?ticket=...
std::string accept_url(app const& a, std::string_view ticket);

/// GET /v1/tickets/accept: where a ticket's link leads — the sign-in URL (sign-in and actor tokens,
/// `__clerk_status=sign_in`) or the invitation's sign-up link (`__clerk_status=sign_up`), with `__clerk_ticket`.
std::string ticket_redirect(app const& a, found_ticket const& f, std::string_view ticket);

/// The BAPI objects ("" ticket: token and url are not shown again).
boost::json::object sign_in_token_json(app const& a, store::ticket_record const& r, std::string_view ticket);
boost::json::object actor_token_json(app const& a, store::ticket_record const& r, std::string_view ticket);
boost::json::object invitation_json(app const& a, store::ticket_record const& r, std::string_view ticket,
                                    std::int64_t now);

/// Inside the sign-up's write txn, before the user is written: the application invitation `id` is accepted and
/// its public metadata becomes u's.
api_result<void> accept_invitation(store::write_txn& w, std::string_view id, store::user_record& u, std::int64_t now);

}  // namespace latchkey::server::api::domain
