#pragma once
// The organizations family: organizations (unique slug), memberships (one per organization and user; listed by
// organization and by user) and invitations (by organization, by email address, by ticket digest).
//
// The repository is written once, backend-neutral, over a small ordered key-value seam (`org_kv`): each backend
// hands it one ordered table of its own (LMDB: the `organizations` dbi; memory: a map of encoded records), so
// both backends keep the same keys and the same rules by construction. Removing an organization removes its
// memberships and invitations in the same txn; remove_user_memberships does the same for a deleted user.
#include "store/error.hpp"
#include "store/kv_table.hpp"

#include <boost/describe/class.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::store {

struct organization_record {
    std::string id;  ///< org_...
    std::string name;
    std::string slug;  ///< unique, lowercase
    std::string image_url;
    std::string public_metadata = "{}";
    std::string private_metadata = "{}";
    std::int32_t max_allowed_memberships = 0;  ///< 0 = unlimited
    bool admin_delete_enabled = true;
    std::string created_by;  ///< user id or ""
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
};
BOOST_DESCRIBE_STRUCT(organization_record, (),
                      (id, name, slug, image_url, public_metadata, private_metadata, max_allowed_memberships,
                       admin_delete_enabled, created_by, created_at, updated_at))

struct org_membership_record {
    std::string id;  ///< orgmem_...
    std::string organization_id;
    std::string user_id;
    std::string role;  ///< "org:admin", "org:member", or a custom role key
    std::string public_metadata = "{}";
    std::string private_metadata = "{}";
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
};
BOOST_DESCRIBE_STRUCT(org_membership_record, (),
                      (id, organization_id, user_id, role, public_metadata, private_metadata, created_at, updated_at))

struct org_invitation_record {
    std::string id;  ///< orginv_...
    std::string organization_id;
    std::string email_address;  ///< lowercased
    std::string role;
    std::string status;         ///< pending | accepted | revoked | expired
    std::string ticket_digest;  ///< SHA-256 (hex) of the ticket; never the ticket
    std::string inviter_user_id;
    std::string public_metadata = "{}";
    std::string private_metadata = "{}";
    std::string redirect_url;
    std::int64_t expires_at = 0;
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
};
BOOST_DESCRIBE_STRUCT(org_invitation_record, (),
                      (id, organization_id, email_address, role, status, ticket_digest, inviter_user_id,
                       public_metadata, private_metadata, redirect_url, expires_at, created_at, updated_at))

// ---- domains and membership requests (issue 13, appended) ----

struct org_domain_record {
    std::string id;  ///< orgdmn_...
    std::string organization_id;
    std::string name;  ///< lowercased host name (example.com)
    std::string enrollment_mode =
        "manual_invitation";  ///< manual_invitation | automatic_invitation | automatic_suggestion
    bool verified = false;    ///< affiliation proven (by an emailed code) or set through the BAPI
    std::string affiliation_email_address;
    std::string affiliation_status;       ///< "" | unverified | verified | failed | expired
    std::string affiliation_strategy;     ///< email_code, or "admin" for a BAPI-verified domain
    std::string affiliation_code_digest;  ///< HMAC of the emailed code; never the code
    std::int64_t affiliation_expire_at = 0;
    std::int32_t affiliation_attempts = 0;
    std::int64_t affiliation_verified_at = 0;
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
};
BOOST_DESCRIBE_STRUCT(org_domain_record, (),
                      (id, organization_id, name, enrollment_mode, verified, affiliation_email_address,
                       affiliation_status, affiliation_strategy, affiliation_code_digest, affiliation_expire_at,
                       affiliation_attempts, affiliation_verified_at, created_at, updated_at))

/// A user asking to join (made by accepting a suggestion); the organization's managers accept or reject it.
struct org_membership_request_record {
    std::string id;  ///< orgmemreq_...
    std::string organization_id;
    std::string user_id;
    std::string status;     ///< pending | accepted | rejected
    std::string domain_id;  ///< the domain whose suggestion was accepted
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
};
BOOST_DESCRIBE_STRUCT(org_membership_request_record, (),
                      (id, organization_id, user_id, status, domain_id, created_at, updated_at))

class organizations_view : public kv_reader {
public:
    using kv_reader::kv_reader;

    result<std::optional<organization_record>> get(std::string_view id) const noexcept;
    result<std::optional<organization_record>> by_slug(std::string_view slug) const noexcept;
    /// Every organization, oldest first.
    result<std::vector<organization_record>> list() const noexcept;

    result<std::optional<org_membership_record>> membership(std::string_view org_id,
                                                            std::string_view user_id) const noexcept;
    /// An organization's memberships, in user id order.
    result<std::vector<org_membership_record>> memberships_of_org(std::string_view org_id) const noexcept;
    /// A user's memberships, in organization id (creation) order.
    result<std::vector<org_membership_record>> memberships_of_user(std::string_view user_id) const noexcept;
    result<std::size_t> members_count(std::string_view org_id) const noexcept;

    result<std::optional<org_invitation_record>> invitation(std::string_view id) const noexcept;
    /// An organization's invitations, oldest first.
    result<std::vector<org_invitation_record>> invitations_of_org(std::string_view org_id) const noexcept;
    /// Every invitation to an address (lowercased), oldest first.
    result<std::vector<org_invitation_record>> invitations_to(std::string_view email) const noexcept;
    result<std::optional<org_invitation_record>> invitation_by_ticket(std::string_view digest) const noexcept;

    result<std::optional<org_domain_record>> domain(std::string_view id) const noexcept;
    /// An organization's domains, in id (creation) order.
    result<std::vector<org_domain_record>> domains_of_org(std::string_view org_id) const noexcept;
    /// Every domain (of any organization) with this name, in id order.
    result<std::vector<org_domain_record>> domains_named(std::string_view name) const noexcept;

    result<std::optional<org_membership_request_record>> membership_request(std::string_view id) const noexcept;
    /// An organization's membership requests, in id (creation) order.
    result<std::vector<org_membership_request_record>> membership_requests_of_org(
        std::string_view org_id) const noexcept;
    /// A user's membership requests, in id (creation) order.
    result<std::vector<org_membership_request_record>> membership_requests_of_user(
        std::string_view user_id) const noexcept;

protected:
    ~organizations_view() = default;
};

class organizations_repo : public kv_writer<organizations_view> {
public:
    using kv_writer::kv_writer;

    /// Inserts (`insert`: errc::key_exists when the id or the slug is taken) or updates an organization; a
    /// changed slug moves its index entry (errc::key_exists when the new one is taken).
    result<void> put(organization_record const& o, bool insert) noexcept;
    /// Removes the organization, its slug, its memberships, invitations, domains and membership requests.
    result<void> remove(std::string_view id) noexcept;

    /// Inserts or replaces the membership of (organization, user).
    result<void> put_membership(org_membership_record const& m) noexcept;
    result<void> remove_membership(std::string_view org_id, std::string_view user_id) noexcept;
    /// Removes every membership and membership request of a user (the user is being deleted).
    result<void> remove_user_memberships(std::string_view user_id) noexcept;

    result<void> put_invitation(org_invitation_record const& i) noexcept;
    result<void> remove_invitation(std::string_view id) noexcept;

    /// Inserts or replaces a domain (its name may not change).
    result<void> put_domain(org_domain_record const& d) noexcept;
    result<void> remove_domain(std::string_view id) noexcept;
    result<void> put_membership_request(org_membership_request_record const& r) noexcept;
    result<void> remove_membership_request(std::string_view id) noexcept;

protected:
    ~organizations_repo() = default;
};

}  // namespace latchkey::store
