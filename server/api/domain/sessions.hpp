#pragma once
// The domain rules for ending sessions, shared by the FAPI and the BAPI (neither includes the other): a live
// session is written with its new status, and every session touched loses its cached token as soon as the write
// commits (an after_commit hook: never for a write that aborts), so no request after the commit shows one.
#include "server/api/app.hpp"
#include "store/store.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::server::api::domain {

/// Drops the cached tokens of `session_ids` once `w` commits (never when it aborts): THE way a write that ends,
/// revokes or removes sessions retires their tokens.
void drop_tokens_after_commit(app& a, store::write_txn& w, std::vector<std::string> session_ids);

/// Ends every live session in `sessions` except `keep` with `status` (ended, removed, revoked...), writing each,
/// and drops the cached token of every one of them. Returns the ids of the sessions it ended.
store::result<std::vector<std::string>> end_sessions(app& a, store::write_txn& w,
                                                     std::vector<store::session_record>& sessions, std::int64_t now,
                                                     std::string_view status, std::string_view keep = {});

/// end_sessions over every session of the user.
store::result<std::vector<std::string>> end_user_sessions(app& a, store::write_txn& w, std::string_view user_id,
                                                          std::int64_t now, std::string_view status,
                                                          std::string_view keep = {});

/// end_sessions over every session attached to the client (the client record itself is not written).
store::result<std::vector<std::string>> end_client_sessions(app& a, store::write_txn& w,
                                                            store::client_record const& client, std::int64_t now,
                                                            std::string_view status);

}  // namespace latchkey::server::api::domain
