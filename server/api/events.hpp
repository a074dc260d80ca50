#pragma once
// THE way a change reaches the outside world: webhook events (Clerk's envelope, Svix-signed by the delivery
// worker) and one-time-code messages (email, SMS). Both are written as jobs into the durable queue inside the
// write txn of the change that causes them, so they exist exactly when the change commits (a crash loses none,
// an aborted change sends none). No I/O here: the delivery worker (server/delivery/worker.hpp) sends them.
//
// Other features add their events through emit() (organization.*, waitlistEntry.* ...).
#include "server/api/app.hpp"
#include "server/api/context.hpp"
#include "store/store.hpp"

#include <boost/json/object.hpp>

#include <string_view>

namespace latchkey::server::api::events {

/// Queues the event `type` (e.g. "user.created") with `data` (a BAPI-shaped object) for every configured webhook
/// endpoint whose event filter takes it, in `w`: {data, object:"event", type, timestamp (ms), instance_id,
/// event_attributes:{http_request:{client_ip, user_agent}}}. Nothing when no endpoint wants it.
store::result<void> emit(app& a, store::write_txn& w, std::string_view type, boost::json::object data,
                         request_ctx const* ctx = nullptr);

/// user.created / user.updated with the BAPI user object.
store::result<void> user_changed(app& a, store::write_txn& w, std::string_view type, store::user_record const& u,
                                 request_ctx const* ctx = nullptr);
/// user.deleted: {object:"user", id, deleted:true, external_id?}.
store::result<void> user_deleted(app& a, store::write_txn& w, store::user_record const& u,
                                 request_ctx const* ctx = nullptr);
/// session.created / ended / removed / revoked with the BAPI session (and its user, or null).
store::result<void> session_changed(app& a, store::write_txn& w, std::string_view type, store::session_record const& s,
                                    request_ctx const* ctx = nullptr);
/// session.<status> for a session just ended with `status` (ended, removed, revoked; others send nothing).
store::result<void> session_ended(app& a, store::write_txn& w, store::session_record const& s,
                                  request_ctx const* ctx = nullptr);

/// Sends a one-time code. delivery.email.mode / delivery.sms.mode "outbox" append it to the outbox file at once
/// (development, as before); "smtp" / "twilio" render the kind's template and queue a job in `w`. Either way an
/// email.created / sms.created event is emitted in `w`. `user_id` / `identification_id` may be empty (sign-up).
store::result<void> send_code(app& a, store::write_txn& w, request_ctx const& ctx, message const& m,
                              std::string_view user_id, std::string_view identification_id);

/// Sends an invitation link (`m.code` holds the URL; kind e.g. "waitlist_invitation") in `w`: "outbox" mode appends
/// it to the outbox file once `w` commits; "smtp" renders the `invitation` template ({{url}}, {{app_name}}, {{to}})
/// and queues an email job in `w`.
store::result<void> send_invitation(app& a, store::write_txn& w, message const& m, std::int64_t now);

}  // namespace latchkey::server::api::events
