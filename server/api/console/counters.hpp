#pragma once
// The console's activity counters (issue 23): bucketed counts kept in the store by the txns that cause them
// (a session starting, a session touched, a sign-in refused), at three granularities — minute, hour and day
// buckets — so a chart of the last hour, day or month reads at most 60 entries and never scans users or
// sessions. Series: sign_ups, sign_ins.ok, sign_ins.ok.<strategy>, sign_ins.failed, active_sessions.
#include "server/api/context.hpp"
#include "store/store.hpp"

#include <cstdint>
#include <string_view>

namespace latchkey::server::api::console {

/// Bucket widths (ms) of the three granularities, and how many buckets each chart shows.
inline constexpr std::int64_t minute_ms = 60'000, hour_ms = 3'600'000, day_ms = 86'400'000;

/// Adds one to `name` in the minute, hour and day buckets of `now_ms`.
store::result<void> count(store::write_txn& w, std::string_view name, std::int64_t now_ms);

/// A session started (sign-in or sign-up completed; told apart by the request's path, the sign-in's strategy
/// from its form): counts sign_ups or sign_ins.ok(.<strategy>), and the session as active.
store::result<void> count_session_start(store::write_txn& w, request_ctx const& ctx);

/// A session seen active at `now_ms` that was last active at `previous_ms`: counted once per bucket it is
/// active in (a bucket of each granularity it enters for the first time).
store::result<void> count_active(store::write_txn& w, std::int64_t previous_ms, std::int64_t now_ms);

/// After a FAPI sign-in step answered with a refusal (wrong password or code, locked, banned, unknown
/// identifier): counts sign_ins.failed in its own write txn. Anything else is ignored.
void count_sign_in_refusal(app& a, request_ctx const& ctx, std::string_view pattern, api_error const& e);

}  // namespace latchkey::server::api::console
