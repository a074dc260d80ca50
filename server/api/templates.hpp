#pragma once
// JWT templates: renders a template's claims for a user/session (Clerk shortcodes like {{user.id}}).
// Used by FAPI POST /v1/client/sessions/{id}/tokens/{template} and BAPI POST /v1/sessions/{id}/tokens/{template}.
#include "server/api/app.hpp"
#include "store/records.hpp"

#include <boost/json/object.hpp>

namespace latchkey::server::api {

/// The template's claims with every shortcode replaced: a string that is exactly one shortcode becomes
/// the typed value (null when missing); shortcodes inside longer strings are interpolated as text.
boost::json::object render_template_claims(app const& a, store::jwt_template_record const& tpl,
                                           store::user_record const& user, store::session_record const& session);

}  // namespace latchkey::server::api
