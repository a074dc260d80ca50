#pragma once
// Records -> Clerk wire JSON. FAPI and BAPI share the object shapes (timestamps in ms); BAPI adds the
// private fields. Every array field is always present (the SDK parsers crash on missing arrays).
#include "server/api/context.hpp"
#include "store/records.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <string_view>

namespace latchkey::server::api::views {

enum class audience { frontend, backend };

/// {"status","strategy","attempts","expire_at",...} or null when the verification was never started.
boost::json::value verification(store::verification_record const& v);

boost::json::object email_address(store::user_record const& u, store::identification_record const& e);
boost::json::object phone_number(store::user_record const& u, store::identification_record const& p);

/// The user object. Backend adds private_metadata (and the frontend omits it).
boost::json::object user(store::user_record const& u, audience who);

/// public_user_data for a session.
boost::json::object public_user_data(store::user_record const& u);

/// Parses a stored JSON-object text (metadata); "{}" on anything unexpected.
boost::json::value json_text(std::string_view text);

/// The BAPI session object.
boost::json::object backend_session(store::session_record const& s);
/// The BAPI client object (with BAPI sessions).
boost::json::object backend_client(store::client_record const& c, std::vector<store::session_record> const& sessions);

/// True when the session counts as signed in (active or pending) and is not past expiry.
bool session_live(store::session_record const& s, std::int64_t now_ms);

}  // namespace latchkey::server::api::views
