#pragma once
// The organization settings the organization suites (integration and handler) start from.
#include "conf/config.hpp"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace latchkey::test {

/// Turns organizations on (at most `max_memberships` members each) with the custom role "org:billing" ("Billing")
/// holding `permissions`.
inline void orgs_with_billing(conf::config& c, std::uint32_t max_memberships, std::vector<std::string> permissions) {
    c.organizations.enabled = true;
    c.organizations.max_allowed_memberships = max_memberships;
    conf::org_role billing;
    billing.key = "org:billing";
    billing.name = "Billing";
    billing.permissions = std::move(permissions);
    c.organizations.roles.push_back(std::move(billing));
}

}  // namespace latchkey::test
