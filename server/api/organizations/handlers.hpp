#pragma once
// The organizations endpoints (issue 13), routed in server/api/routes.cpp.
#include "server/api/context.hpp"

namespace latchkey::server::api::orgs {

// ---- FAPI (the signed-in user of the request's session acts; every write is authorised by their role) ----
api_result<reply> fapi_create_organization(app&, request_ctx&);
api_result<reply> fapi_get_organization(app&, request_ctx&);
api_result<reply> fapi_update_organization(app&, request_ctx&);
api_result<reply> fapi_delete_organization(app&, request_ctx&);
api_result<reply> fapi_list_memberships(app&, request_ctx&);
api_result<reply> fapi_create_membership(app&, request_ctx&);
api_result<reply> fapi_update_membership(app&, request_ctx&);
api_result<reply> fapi_delete_membership(app&, request_ctx&);
api_result<reply> fapi_list_invitations(app&, request_ctx&);
api_result<reply> fapi_create_invitation(app&, request_ctx&);
api_result<reply> fapi_create_invitations_bulk(app&, request_ctx&);
api_result<reply> fapi_revoke_invitation(app&, request_ctx&);
api_result<reply> fapi_list_roles(app&, request_ctx&);
api_result<reply> fapi_my_memberships(app&, request_ctx&);
api_result<reply> fapi_leave_organization(app&, request_ctx&);
api_result<reply> fapi_my_invitations(app&, request_ctx&);
api_result<reply> fapi_accept_my_invitation(app&, request_ctx&);
api_result<reply> fapi_my_suggestions(app&, request_ctx&);

// ---- BAPI (as @clerk/backend's organizations API calls it) ----
api_result<reply> bapi_list_organizations(app&, request_ctx&);
api_result<reply> bapi_create_organization(app&, request_ctx&);
api_result<reply> bapi_get_organization(app&, request_ctx&);
api_result<reply> bapi_update_organization(app&, request_ctx&);
api_result<reply> bapi_delete_organization(app&, request_ctx&);
api_result<reply> bapi_merge_organization_metadata(app&, request_ctx&);
api_result<reply> bapi_replace_organization_metadata(app&, request_ctx&);
api_result<reply> bapi_list_memberships(app&, request_ctx&);
api_result<reply> bapi_create_membership(app&, request_ctx&);
api_result<reply> bapi_update_membership(app&, request_ctx&);
api_result<reply> bapi_delete_membership(app&, request_ctx&);
api_result<reply> bapi_list_invitations(app&, request_ctx&);
api_result<reply> bapi_create_invitation(app&, request_ctx&);
api_result<reply> bapi_create_invitations_bulk(app&, request_ctx&);
api_result<reply> bapi_get_invitation(app&, request_ctx&);
api_result<reply> bapi_revoke_invitation(app&, request_ctx&);

// ---- domains, suggestions, membership requests (domains.cpp) ----
api_result<reply> fapi_list_domains(app&, request_ctx&);
api_result<reply> fapi_create_domain(app&, request_ctx&);
api_result<reply> fapi_get_domain(app&, request_ctx&);
api_result<reply> fapi_delete_domain(app&, request_ctx&);
api_result<reply> fapi_update_enrollment_mode(app&, request_ctx&);
api_result<reply> fapi_prepare_affiliation_verification(app&, request_ctx&);
api_result<reply> fapi_attempt_affiliation_verification(app&, request_ctx&);
api_result<reply> fapi_list_membership_requests(app&, request_ctx&);
api_result<reply> fapi_accept_membership_request(app&, request_ctx&);
api_result<reply> fapi_reject_membership_request(app&, request_ctx&);
api_result<reply> fapi_accept_my_suggestion(app&, request_ctx&);
api_result<reply> fapi_list_pending_invitations(app&, request_ctx&);  // fapi.cpp
api_result<reply> bapi_list_domains(app&, request_ctx&);
api_result<reply> bapi_create_domain(app&, request_ctx&);
api_result<reply> bapi_update_domain(app&, request_ctx&);
api_result<reply> bapi_delete_domain(app&, request_ctx&);

// ---- BAPI memberships across organizations, roles, permissions (bapi_more.cpp) ----
api_result<reply> bapi_merge_membership_metadata(app&, request_ctx&);
api_result<reply> bapi_list_all_memberships(app&, request_ctx&);
api_result<reply> bapi_user_memberships(app&, request_ctx&);
api_result<reply> bapi_list_roles(app&, request_ctx&);
api_result<reply> bapi_get_role(app&, request_ctx&);
api_result<reply> bapi_write_role(app&, request_ctx&);
api_result<reply> bapi_list_permissions(app&, request_ctx&);
api_result<reply> bapi_get_permission(app&, request_ctx&);
// logo (issue 14)
api_result<reply> fapi_set_organization_logo(app&, request_ctx&);
api_result<reply> fapi_delete_organization_logo(app&, request_ctx&);
api_result<reply> bapi_set_organization_logo(app&, request_ctx&);
api_result<reply> bapi_delete_organization_logo(app&, request_ctx&);

}  // namespace latchkey::server::api::orgs
