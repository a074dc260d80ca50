#pragma once
// Helpers shared by the sign-in and sign-up flows (file-pair private to frontend/).
#include "server/api/frontend/common.hpp"

#include <string>
#include <string_view>

namespace latchkey::server::api::frontend::flow {

/// Per-IP (and, when `identifier` is set, per-identifier) rate limits for auth endpoints. 429 with
/// meta.retry_after (dispatch turns it into Retry-After) when exceeded.
std::optional<api_error> rate_limit(app& a, request_ctx const& ctx, std::string_view action,
                                    std::string_view identifier = {});

/// True when the client already has a live session (single-session mode: session_exists).
bool client_has_live_session(app& a, store::txn const& t, store::client_record const& c, std::int64_t now);

/// The live session of `user_id` on the client, or "".
std::string live_session_of_user(app& a, store::txn const& t, store::client_record const& c,
                                 std::string_view user_id, std::int64_t now);

/// user_locked / user_banned checks.
std::optional<api_error> user_blocked(app const& a, store::user_record const& u, std::int64_t now);

/// Validates a username (4..64 of [A-Za-z0-9_-]).
std::optional<api_error> check_username(std::string_view name);

/// Writes a store result error as an API error.
template <class T>
api_error fail(store::result<T> const& r, std::string_view what) {
    return store_failure(r.error(), what);
}

}  // namespace latchkey::server::api::frontend::flow
