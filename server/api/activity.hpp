#pragma once
// Session activity (Clerk's SessionActivity, `latest_activity`): what is recorded about the browser and the
// place a session is used from, and its JSON.
//
// Recorded when a session starts (start_session: every sign-in and sign-up) and when the browser touches the
// session (POST /v1/client/sessions/{id}/touch, which clerk-js sends when a tab gains focus or selects the
// session). Not on token refresh: clerk-js mints a token every minute or so per tab, and a store write there
// would put an fsync'd commit on the hottest path, while touch writes the session anyway (last_active_at), so
// refreshing the activity there costs no extra write.
#include "server/api/context.hpp"
#include "store/records.hpp"

#include <boost/json/object.hpp>
#include <boost/json/storage_ptr.hpp>

#include <string>
#include <string_view>

namespace latchkey::server::api {

/// The canonical text of a client address (`remote` may carry surrounding blanks, as the first entry of an
/// X-Forwarded-For list does; an IPv4-mapped IPv6 address becomes its IPv4 form); "" when it is not an address.
std::string canonical_ip(std::string_view remote);

/// Records the request's User-Agent (cut to max_user_agent_bytes), address and, with a GeoIP database, its
/// city and country in `s.activity`. Keeps the record (and its id) when the browser and address are those
/// already recorded; returns true when it changed. No I/O: the GeoIP lookup reads the memory-mapped database.
bool record_activity(app const& a, request_ctx const& ctx, store::session_record& s);

/// latest_activity for `s`: {"object":"session_activity","id","device_type","is_mobile","browser_name",
/// "browser_version","ip_address","city","country"}, unknown values null. A session with nothing recorded
/// gets an id derived from its own and nulls (the FAPI always sends the object; the BAPI sends null instead,
/// see has_activity).
boost::json::object activity_json(store::session_record const& s, boost::json::storage_ptr const& sp = {});

/// True when something was recorded for `s`.
inline bool has_activity(store::session_record const& s) noexcept { return !s.activity.id.empty(); }

}  // namespace latchkey::server::api
