#pragma once
// The waitlist rules shared by the FAPI (join, sign-up in waitlist mode) and the BAPI (list, create, invite,
// reject, delete): the entry and invitation views, invitations with their ticket, and the sign-up gate.
//
// An invitation's ticket is "<entry id>.<secret>": the secret is 32 random bytes (base64url), and the entry keeps
// only its SHA-256, compared in constant time. The ticket travels in the invitation link
// (<sign-up URL>?__clerk_ticket=<ticket>&__clerk_status=sign_up), which <SignUp/> turns into a sign-up with
// strategy=ticket; the address is then verified by the ticket itself.
#include "server/api/app.hpp"
#include "server/api/error.hpp"
#include "store/store.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace latchkey::server::api::domain {

/// The BAPI WaitlistEntry object (with its invitation, or null).
boost::json::object waitlist_entry_json(app const& a, store::waitlist_entry_record const& e);

/// The entry for `email` (lowercased), created pending if there is none; an existing one is returned as is
/// (Clerk: a repeat join succeeds with the existing entry). `*created` tells which.
/// The link an invitation (waitlist or organization) carries: `redirect_url`, else the configured sign-up URL, else
/// the portal's /sign-up, with `__clerk_ticket` and `__clerk_status=sign_up`.
std::string ticket_url(app const& a, std::string_view ticket, std::string_view redirect_url = {});

api_result<store::waitlist_entry_record> join_waitlist(app& a, std::string const& email, std::int64_t now,
                                                       bool* created = nullptr);

/// Invites the entry (a new invitation and ticket; the old ticket dies) and sends the invitation through the
/// message sink (kind "waitlist_invitation"). Refused for a completed entry (409) and, unless `ignore_existing`,
/// for an address that already belongs to a user (422 form_identifier_exists). An entry already invited is
/// returned unchanged unless `ignore_existing`.
api_result<store::waitlist_entry_record> invite_waitlist_entry(app& a, std::string_view id, bool ignore_existing,
                                                               std::int64_t now);

/// The invited entry a ticket belongs to, or 422 (param ticket) for a malformed, unknown, revoked or used one.
api_result<store::waitlist_entry_record> entry_for_ticket(app& a, store::read_txn const& t, std::string_view ticket);

/// The sign-up gate of waitlist mode, run in the txn that creates the user: the address must belong to an
/// invited entry, which is then marked completed (its invitation accepted). Without waitlist mode it only
/// completes such an entry if there is one. 403 sign_up_restricted_waitlist otherwise.
api_result<void> admit_sign_up(app& a, store::write_txn& w, std::string_view email, std::int64_t now);

/// Whether sign-ups in waitlist mode may start for `email` (an invited entry holds it). For the early refusal
/// of a create; admit_sign_up decides at completion.
api_result<void> check_invited(app& a, std::string_view email);

}  // namespace latchkey::server::api::domain
