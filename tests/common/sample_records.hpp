#pragma once
// Store records as a sign-in leaves them, built in memory: what the integration fixture seeds, the benchmarks
// (bench/) fill their stores with and the unit tests build their users from. Header-only, so each takes it without
// linking the others.
#include "crypto/random.hpp"
#include "store/records.hpp"

#include <cstdint>
#include <string>
#include <utility>

namespace latchkey::test {

/// An active session of `user_id` on `client_id` (new id), signed in at `now_ms`: expires in a week, abandoned
/// after thirty days.
inline store::session_record active_session(std::int64_t now_ms, std::string user_id, std::string client_id) {
    store::session_record s;
    s.id = crypto::new_id("sess");
    s.client_id = std::move(client_id);
    s.user_id = std::move(user_id);
    s.status = "active";
    s.last_active_at = s.first_factor_at = s.created_at = s.updated_at = now_ms;
    s.expire_at = now_ms + 7LL * 24 * 3600 * 1000;
    s.abandon_at = now_ms + 30LL * 24 * 3600 * 1000;
    return s;
}

/// An identification of `kind` ("email_address", "phone_number", ...) whose verification is `status` ("verified",
/// "unverified", or "" for none yet).
inline store::identification_record identification(std::string kind, std::string id, std::string value,
                                                   std::string status) {
    store::identification_record i;
    i.id = std::move(id);
    i.kind = std::move(kind);
    i.value = std::move(value);
    i.verification.status = std::move(status);
    return i;
}

/// An email address `id` verified by email code at `now_ms`.
inline store::identification_record verified_email(std::string id, std::string address, std::int64_t now_ms) {
    auto e = identification("email_address", std::move(id), std::move(address), "verified");
    e.verification.strategy = "email_code";
    e.verification.verified_at = now_ms;
    e.created_at = e.updated_at = now_ms;
    return e;
}

}  // namespace latchkey::test
