#pragma once
// FAPI building blocks shared by the client, sign-in, sign-up, session and me handlers: loading and
// creating the browser's client, starting sessions, minting session tokens and rendering the
// {"response": ..., "client": ...} envelope with the full piggy-backed client.
#include "server/api/context.hpp"
#include "server/api/domain/identifiers.hpp"
#include "server/api/views.hpp"
#include "store/store.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace latchkey::server::api::frontend {

/// Maps a store error to the API error: THE mapping, api::store_error (server/api/error.hpp).
inline api_error store_failure(boost::system::error_code ec, std::string_view what) { return store_error(ec, what); }

/// The Domain attribute for cookies the app's servers must see (__client_uat): the instance's site domain
/// (inst.site_domain, which contains the configured FAPI host) unless a same-origin proxy sits in front
/// (Clerk-Proxy-Url); "" (host-only) then and when there is no site. Never from the Host header.
std::string_view cookie_domain(app const& a, request_ctx const& ctx);

/// Attributes ("; Path=/; ...") for a cookie the FAPI sets on the browser: Secure when the configured frontend
/// API is https; `with_domain` scopes it to the site domain (cookie_domain).
std::string cookie_attrs(app const& a, request_ctx const& ctx, std::int64_t max_age, bool http_only, bool with_domain);

/// The request's client, if it has one that still exists.
std::optional<store::client_record> current_client(request_ctx const& ctx, store::read_txn const& t);

/// The request's client, its selected session and that session's user.
struct current_user {
    store::client_record client;
    store::session_record session;
    store::user_record user;
};

/// Resolves the current user (the rule of /v1/me and of every signed-in FAPI path). The session is the
/// `_clerk_session_id` query parameter (clerk-js sends the active session's id on every non-/client path) or
/// else the client's last active session; it must be a live session of this client. Anything else is 401
/// authentication_invalid, which makes clerk-js re-fetch the client. A stale explicit session id is NOT replaced
/// by the last active one: that could act on a different user than the one the browser meant.
api_result<current_user> load_current_user(app& a, request_ctx const& ctx, store::read_txn const& t);

/// The request's client, creating one (and binding it to the dev browser, or setting the __client cookie /
/// Authorization header) when there is none. Writes the new client in `w`.
api_result<store::client_record> ensure_client(app& a, request_ctx& ctx, store::write_txn& w);

/// Starts an active session for `user` on `client` (single-session mode: other live sessions on the client
/// are ended first), makes it last_active, bumps client.updated_at, rotates the client's credential (the
/// authentication changes the client's privilege: see identity.hpp), and writes session + client.
/// `first_factor_at`/`second_factor_at` feed the fva claim.
api_result<store::session_record> start_session(app& a, request_ctx& ctx, store::write_txn& w,
                                                store::client_record& client, store::user_record& user,
                                                std::int64_t second_factor_at = 0);

/// The token to show as last_active_token: from the per-session cache when fresh and not older than the
/// client's last change (clerk-wire rule 19), else freshly minted and cached.
api_result<std::string> session_token_for_client(app& a, request_ctx const& ctx, store::session_record const& s,
                                                 std::int64_t client_updated_at);

/// FAPI session JSON with the full user, public_user_data and last_active_token (null when not live).
/// Parsed from append_session_json's text: one definition of the shape.
api_result<boost::json::object> session_json(app& a, request_ctx const& ctx, store::session_record const& s,
                                             store::user_record const& u, std::int64_t client_updated_at);

/// Appends the session JSON (as session_json) to `out`, writing the text directly and splicing in the user's
/// cached fragment. On error `out` holds a partial object: the caller discards it. With `deps`, records what the
/// text depends on beyond the store (the token shown, when the clock changes it).
api_result<void> append_session_json(app& a, request_ctx const& ctx, store::session_record const& s,
                                     store::user_record const& u, std::int64_t client_updated_at, std::string& out,
                                     rendered_client* deps = nullptr);

/// `"user":{...},"public_user_data":{...}` for `u`: from a.fragments when `u` is unchanged, else rendered
/// and cached.
std::shared_ptr<user_fragment const> user_fragment_for(app& a, store::user_record const& u, std::int64_t now_ms);
/// Renders that fragment, bypassing the cache.
std::string render_user_fragment(store::user_record const& u, views::lockout const& lock);
/// The user's lockout now, with the instance's policy (views::lockout_of).
views::lockout lockout_now(app const& a, store::user_record const& u, std::int64_t now_ms);

/// FAPI client JSON appended to `out`: every session attached to the client that is live, each full;
/// sign_in; sign_up; last_active_session_id. Sets the __client_uat cookies (production-style identity).
/// On error `out` holds a partial object: the caller discards it. With `deps`, records what the text depends on
/// beyond the store (see rendered_client) and the inputs of the __client_uat cookies.
api_result<void> append_client_json(app& a, request_ctx& ctx, store::read_txn const& t, store::client_record const& c,
                                    std::string& out, rendered_client* deps = nullptr);

/// What the client's JSON shows, read in one txn (the handler's own, after its writes): the client, its live
/// sessions with their users, its current sign-in and sign-up (rendered). Rendering it reads nothing from the
/// store, so a handler's reply needs no second txn. No client: `client` is empty (rendered as null).
struct client_snapshot {
    std::optional<store::client_record> client;
    std::vector<std::pair<store::session_record, store::user_record>> sessions;  ///< live, in the client's order
    std::optional<boost::json::object> sign_in;
    std::optional<boost::json::object> sign_up;
};

/// Reads what `c`'s JSON shows from `t`.
store::result<client_snapshot> snapshot_client(app& a, store::read_txn const& t, store::client_record c,
                                               std::int64_t now_ms);
/// snapshot_client of the request's client (an empty snapshot when it has none).
store::result<client_snapshot> snapshot_current_client(app& a, request_ctx const& ctx, store::read_txn const& t);

/// append_client_json from a snapshot: no store access (tokens come from the cache or are minted).
api_result<void> append_client_json(app& a, request_ctx& ctx, client_snapshot const& snap, std::string& out,
                                    rendered_client* deps = nullptr);

/// A signed-in client's JSON is a few KB: reserve once instead of growing through every power of two.
inline constexpr std::size_t client_json_reserve = 4096;

/// How append_loaded_client renders: `fresh` always from the store; `reuse` (GET /v1/client) through a.clients,
/// taking a rendering from the same store snapshot, clock window, azp and tokens (its __client_uat cookies are
/// set afresh) and caching what it renders.
enum class rendering : bool { fresh, reuse };

/// Appends the request's client as JSON ("null" when it has none), read in a fresh txn. On error `out` is
/// left as it was; `what` names the caller in the store-failure log line.
api_result<void> append_loaded_client(app& a, request_ctx& ctx, std::string& out, char const* what = "envelope",
                                      rendering mode = rendering::fresh);

/// {"response": response, "client": <full client or null>} read in a fresh txn after the handler's write.
api_result<reply> envelope(app& a, request_ctx& ctx, boost::json::value const& response);
/// The same envelope from what the handler already read (snapshot_current_client in its own txn): no txn.
api_result<reply> envelope(app& a, request_ctx& ctx, boost::json::value const& response, client_snapshot const& client);

/// sign_ups.cpp: completes `s` when nothing is missing (the user, its session), else leaves it
/// missing_requirements; the caller writes `s` (the OAuth callback finishing a sign-up, issue 15).
api_result<void> complete_sign_up(app& a, request_ctx& ctx, store::write_txn& w, store::sign_up_record& s,
                                  store::client_record& client);
/// {"response": <client>, "client": <client>}: for endpoints whose resource is the client itself.
api_result<reply> client_envelope(app& a, request_ctx& ctx);
/// The same from what the handler's write read (stage_client): no txn.
api_result<reply> client_envelope(app& a, request_ctx& ctx, client_snapshot const& client);

/// THE way a write stages its envelope: snapshot_current_client in the handler's own write txn, after its writes,
/// a store error mapped (store_failure). The reply then renders from it after the commit without another txn.
api_result<client_snapshot> stage_client(app& a, request_ctx const& ctx, store::read_txn const& t);

/// A write's reply as the write itself saw it: the response object and the client the envelope shows.
struct staged_reply {
    boost::json::value response;
    client_snapshot client;
};
/// stage_client around `response`.
api_result<staged_reply> stage_reply(app& a, request_ctx const& ctx, store::read_txn const& t,
                                     boost::json::value response);
/// The envelope of a staged reply (no txn).
api_result<reply> envelope(app& a, request_ctx& ctx, staged_reply const& staged);

/// 401 authentication_invalid unless the request has a current user (load_current_user), in one read: signed-in
/// handlers that validate their input before their write call it first, so a signed-out browser gets the 401 (and
/// re-fetches its client) rather than a form error.
std::optional<api_error> require_current_user(app& a, request_ctx const& ctx);

/// Sign-in / sign-up JSON (Client.SignIn / Client.SignUp). Defined in sign_ins.cpp / sign_ups.cpp by the
/// owner of those flows; append_client_json() calls them for the client's current attempts.
boost::json::object sign_in_json(app& a, store::read_txn const& t, store::sign_in_record const& s);
boost::json::object sign_up_json(app& a, store::sign_up_record const& s);

/// Normalisation and validation: THE rules are in server/api/domain/identifiers.hpp (shared with the BAPI).
using domain::check_password_policy;
using domain::normalize_email;
using domain::normalize_phone;

/// One-time codes: a new 6-digit code, its digest (HMAC with the instance code key), and test-mode checks.
std::string new_code();
std::string code_digest(app const& a, std::string_view code);
/// True for +clerk_test emails and +1 XXX 555-0100..0199 phones when the instance is in test mode.
bool is_test_identifier(app const& a, std::string_view value);

/// Reads a form field limited to max_field_bytes; absent -> nullopt.
std::optional<std::string> field(request_ctx const& ctx, std::string_view name);

}  // namespace latchkey::server::api::frontend

namespace latchkey::server::api::frontend {

/// Starts a one-time-code verification in `v` (status unverified, strategy, digest, expire_at, attempts 0,
/// target_id) and sends the code (events::send_code: the outbox at once, or a delivery job in `w`) — unless `to`
/// is a test identifier, which accepts 424242 and sends nothing. `user_id` names the user for the
/// email.created / sms.created event ("" during a sign-up). Fails only on a store error (nothing is then sent).
api_result<void> prepare_code(app& a, request_ctx const& ctx, store::write_txn& w, store::verification_record& v,
                              std::string_view strategy, std::string_view channel, std::string_view to,
                              std::string_view target_id, std::string_view user_id = {});

/// Checks `code` against `v` and updates `v` (attempts, status). Errors: verification_not_sent,
/// verification_expired, verification_failed (too many attempts), verification_already_verified,
/// form_code_incorrect (param_name "code"). The caller persists `v` whatever the outcome.
api_result<void> attempt_code(app& a, request_ctx const& ctx, store::verification_record& v, std::string_view code);

/// One hit on the fixed-window counter `key` (`per_minute` allowed); 429 too_many_requests with
/// meta.retry_after (seconds) when over.
std::optional<api_error> rate_limit(app& a, request_ctx const& ctx, std::string const& key, std::uint32_t per_minute);

/// rate_limit per client IP and `action` of `flow` ("sign_in", "sign_up"), at rate_per_ip_per_minute.
std::optional<api_error> rate_limit_ip(app& a, request_ctx const& ctx, std::string_view flow, std::string_view action);

}  // namespace latchkey::server::api::frontend
