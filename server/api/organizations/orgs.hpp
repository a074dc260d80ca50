#pragma once
// Organizations (issue 13): the rules shared by the FAPI and the BAPI handlers of this folder.
//
// - Roles: the system roles org:admin and org:member with Clerk's system permissions, plus the custom roles of
//   the config ("organizations.roles"). A membership's permissions are its role's.
// - Views: organization, membership, invitation, role (Clerk's shapes; the BAPI adds private metadata).
// - Denormalised state, kept in the txn of every change (so rendering and minting read nothing else):
//   user_record::organization_memberships (the user JSON's array) and session_record::org_claims (the session
//   token's `fea`/`o` claims for its active organization). refresh_user() recomputes both for one user and drops
//   the user's cached tokens after the commit.
#include "server/api/app.hpp"
#include "server/api/context.hpp"
#include "server/api/error.hpp"
#include "store/store.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::server::api::orgs {

inline constexpr std::string_view admin_role = "org:admin";
inline constexpr std::string_view member_role = "org:member";

struct role_def {
    std::string key;
    std::string name;
    std::string description;
    std::vector<std::string> permissions;  ///< full keys (org:sys_memberships:read, org:invoices:read)
    bool system = false;
};

/// Every role of the instance: org:admin, org:member, then the config's custom roles.
std::vector<role_def> roles(app const& a);
/// The role `key`, if the instance has it.
std::optional<role_def> find_role(app const& a, std::string_view key);
/// Whether `role` grants `permission` (a full key).
bool has_permission(app const& a, std::string_view role, std::string_view permission);

/// The session-token claims for a membership: `,"fea":"o:<feature>,...","o":{"id","slg","rol","per","fpm"}`
/// (v2, as @clerk/shared's jwtPayloadParser reads it: `rol` without the "org:" prefix, per/fpm only for the
/// role's non-system permissions, which are not put in tokens).
std::string claims_for(app const& a, store::organization_record const& o, store::org_membership_record const& m);

enum class audience { frontend, backend };

boost::json::object organization_json(store::organization_record const& o, audience who,
                                      std::optional<std::size_t> members_count = std::nullopt,
                                      std::optional<std::size_t> pending_invitations = std::nullopt);
boost::json::object public_organization_data(store::organization_record const& o);
boost::json::object membership_json(app const& a, store::org_membership_record const& m,
                                    store::organization_record const& o, store::user_record const* u, audience who);
boost::json::object invitation_json(app const& a, store::org_invitation_record const& i,
                                    store::organization_record const* o, audience who);
boost::json::object role_json(role_def const& r);
/// {"data": [...], "total_count": n} after limit/offset (as backend::paging reads them from the query).
boost::json::object page(boost::json::array all, std::pair<std::size_t, std::size_t> limit_offset);

/// Recomputes the user's organization_memberships JSON (bumping updated_at when it changes) and the org claims
/// of the user's live sessions (dropping their cached tokens after the commit). A missing user is no error.
api_result<void> refresh_user(app& a, store::write_txn& w, std::string_view user_id, std::int64_t now);
/// refresh_user for every member of the organization.
api_result<void> refresh_members(app& a, store::write_txn& w, std::string_view org_id, std::int64_t now);

/// A slug from a name: lowercase a-z0-9, other runs become '-', trimmed; "" if nothing is left.
std::string slugify(std::string_view name);
/// Whether `slug` is a valid slug (1..64 of a-z 0-9 - _).
bool valid_slug(std::string_view slug);
/// The 422 form_param_format_invalid on `slug` for a slug valid_slug refuses (FAPI and BAPI alike).
api_error invalid_slug();

/// Creates an organization with `creator` (may be "") as its first member with the configured creator role,
/// checking the slug. Runs inside the caller's write txn.
api_result<store::organization_record> create(app& a, store::write_txn& w, store::organization_record o,
                                              std::string_view creator, std::int64_t now);

/// Adds (or re-roles) a member, enforcing the organization's membership quota for a new member.
api_result<store::org_membership_record> add_member(app& a, store::write_txn& w, store::organization_record const& o,
                                                    std::string_view user_id, std::string_view role, std::int64_t now);
/// Whether changing/removing `user_id`'s admin membership would leave the organization without an admin.
api_result<bool> is_last_admin(store::read_txn const& t, std::string_view org_id, std::string_view user_id);

/// Deletes an organization with everything that hangs off it, refreshing its former members.
api_result<void> remove(app& a, store::write_txn& w, std::string_view org_id, std::int64_t now);

/// A user is being deleted: drop their memberships (refreshing nothing else: the user goes too).
api_result<void> forget_user(store::write_txn& w, std::string_view user_id);

/// Creates an invitation (pending, with a fresh ticket) and queues its email (kind "organization_invitation",
/// link with __clerk_ticket) after the commit. Refuses an address that is already a member
/// (already_a_member_in_organization) or already has a pending invitation (duplicate_record).
api_result<store::org_invitation_record> invite(app& a, store::write_txn& w, store::organization_record const& o,
                                                std::string const& email, std::string_view role,
                                                std::string_view inviter, std::int64_t now,
                                                std::string_view redirect_url = {});

/// Accepts a pending invitation for `user_id` (membership with the invitation's role; status accepted).
api_result<void> accept_invitation(app& a, store::write_txn& w, store::org_invitation_record inv,
                                   std::string_view user_id, std::int64_t now);

/// The sign-up of an invitation's ticket completed: `user_id` joins with the invitation's role (accepted).
api_result<void> join_by_invitation(app& a, store::write_txn& w, std::string_view invitation_id,
                                    std::string_view user_id, std::int64_t now);

/// The pending invitation an organization ticket ("<inv id>.<secret>") names, or 422 (param ticket).
api_result<store::org_invitation_record> invitation_for_ticket(store::read_txn const& t, std::string_view ticket,
                                                               std::int64_t now);

/// Whether a ticket is an organization invitation's (its id part starts with "orginv_").
bool is_org_ticket(std::string_view ticket);

/// Makes `org_id` ("" = the personal account) the session's active organization and sets its org claims;
/// 404 organization_not_found_or_unauthorized when the user is not a member. Returns whether anything changed
/// (the caller then writes the session and drops its cached token after the commit).
api_result<bool> select_organization(app const& a, store::read_txn const& t, store::session_record& s,
                                     std::string_view org_id);

/// The org claims a token for `user_id` with `org_id` active carries ("" for none), or 404 as above.
api_result<std::string> claims_in(app const& a, store::read_txn const& t, std::string_view user_id,
                                  std::string_view org_id);

/// Unknown-resource error for this folder (404 resource_not_found).
api_error not_found();

/// The organization a BAPI path names in {organization_id}: an id, or a slug (getOrganization({slug})); 404 when
/// there is none.
api_result<store::organization_record> path_organization(store::read_txn const& t, request_ctx const& ctx);

}  // namespace latchkey::server::api::orgs
