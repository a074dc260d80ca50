#pragma once
// The organizations part of `latchkey import bapi`: a source's organizations, each with its memberships (their roles
// and metadata) and its pending invitations, every id kept. Each organization is written with its memberships and
// invitations in one write txn, so an interrupted import resumes where it stopped and a re-run changes nothing.
//
// What cannot move: a pending invitation's emailed link (its ticket is only in the email Clerk sent), so an imported
// invitation is accepted from the invitee's account (`/v1/me/organization_invitations/{id}/accept`) or sent again;
// a custom role's definition (roles are the instance config's `organizations.roles`): a membership whose role the
// config does not define is imported with a warning naming the role.
#include "server/api/app.hpp"
#include "store/organizations.hpp"

#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace latchkey::server::migrate {

struct org_problem {
    std::string id;      ///< the organization, membership or invitation id ("" when the source gave none)
    std::string status;  ///< "failed" | "conflict" | "warning"
    std::string reason;
};

struct org_tally {
    std::size_t organizations = 0, memberships = 0, invitations = 0;  ///< written (or, in a dry run, would be)
    std::size_t unchanged = 0, failed = 0, conflicts = 0, warnings = 0;
    std::vector<org_problem> problems;
};

/// The records of a source's BAPI JSON (Clerk's shapes), or why not.
std::optional<store::organization_record> organization_from_json(boost::json::value const& v, std::string& why);
std::optional<store::org_membership_record> membership_from_json(boost::json::value const& v, std::string const& org_id,
                                                                 std::string& why);
std::optional<store::org_invitation_record> invitation_from_json(boost::json::value const& v, std::string const& org_id,
                                                                 std::int64_t now_ms, std::string& why);

/// Pages through `<base>/v1/organizations`, and each one's memberships and pending invitations, writing them into
/// `a.db` (nothing with `dry_run`). Users must be in the store already (a membership of an unknown user fails).
/// Returns "" or why the paging of the source stopped (a source without organizations, 404, is not an error).
/// `dry_run`: the store is only read, and a member `will_exist(user_id)` (a user the same dry run would import)
/// counts as present.
std::string import_organizations(api::app& a, std::string const& base, std::string const& secret_key, bool dry_run,
                                 org_tally& t, std::ostream& err,
                                 std::function<bool(std::string const&)> const& will_exist = {});

}  // namespace latchkey::server::migrate
