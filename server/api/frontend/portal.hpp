#pragma once
// The Account Portal's addresses, shared by the pages themselves (portal.cpp) and display_config
// (environment.cpp), so that what the environment announces and what the portal serves never drift apart.
#include "server/api/app.hpp"

#include <string>
#include <string_view>

namespace latchkey::server::api::frontend {

/// The instance's account URLs (absolute). The Account Portal lives on the FAPI origin under the public FAPI URL
/// (so also under a proxy prefix): `<frontend_api>/sign-in`, `/sign-up`, `/user`, `/organization`,
/// `/create-organization`.
struct account_urls {
    std::string home;            ///< home_url, else the app behind a proxy prefix, else the portal's /user
    std::string sign_in;         ///< sign_in_url, else the portal's /sign-in
    std::string sign_up;         ///< sign_up_url, else the portal's /sign-up
    std::string user_profile;    ///< user_profile_url, else the portal's /user
    std::string waitlist;        ///< waitlist_url, else the portal's /waitlist
    std::string after_sign_in;   ///< where signing in ends without a requested target: home
    std::string portal_sign_in;  ///< the portal's own pages, whatever the config names
    std::string portal_sign_up;
    std::string portal_user_profile;
    std::string portal_waitlist;
    // ---- organizations (issue 13 / 19, appended) ----
    std::string organization_profile;  ///< the portal's /organization (<OrganizationProfile/>)
    std::string create_organization;   ///< the portal's /create-organization (<CreateOrganization/>)
};

account_urls account_urls_of(app const& a);

}  // namespace latchkey::server::api::frontend
