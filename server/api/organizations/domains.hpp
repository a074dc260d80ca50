#pragma once
// Organization domains (domains.cpp): the domain JSON and the invitations a verified automatic_invitation domain
// offers a user, shared with the user's side of fapi.cpp.
#include "server/api/organizations/orgs.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <string_view>
#include <vector>

namespace latchkey::server::api::orgs {

/// Clerk's organization_domain JSON (with public_organization_data when `o` is given).
boost::json::object domain_json(store::read_txn const& t, store::org_domain_record const& d,
                                store::organization_record const* o);

/// The invitations the user's verified addresses earn from verified automatic_invitation domains of
/// organizations the user is not in and has no ordinary pending invitation from (FAPI invitation JSON, pending).
api_result<std::vector<boost::json::object>> domain_invitations_for(app const& a, store::read_txn const& t,
                                                                    store::user_record const& u);

/// Accepts such an invitation by its id (the user joins with the default role); nothing when the id is none.
api_result<std::optional<boost::json::object>> accept_domain_invitation(app& a, store::write_txn& w,
                                                                        store::user_record const& u,
                                                                        std::string_view invitation_id,
                                                                        std::int64_t now);

}  // namespace latchkey::server::api::orgs
