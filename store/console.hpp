#pragma once
// The admin console family (issue 23): operator accounts, one-time console sign-in links, console sessions, the
// audit log and bucketed activity counters.
//
// Secrets are stored as SHA-256 digests only (links and session cookies are found by the digest of the value the
// browser holds). Like the tickets and OAuth families, the repository is written once, backend-neutral, over an
// ordered key-value table each backend lends it (the `org_kv` seam; LMDB: the `console` dbi; memory: a map).
#include "store/error.hpp"
#include "store/kv_table.hpp"

#include <boost/describe/class.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::store {

/// A console operator. Roles: "admin" (everything), "support" (read and change users, no impersonation),
/// "viewer" (read only).
struct operator_record {
    std::string id;    ///< op_...
    std::string name;  ///< unique, lowercase
    std::string role = "viewer";
    std::string password_digest;  ///< argon2id PHC string; "" = signs in through console links only
    std::string totp_secret;      ///< base32; "" = no second factor
    std::int64_t totp_last_step = 0;
    std::int32_t failed_attempts = 0;
    std::int64_t locked_until = 0;  ///< ms; 0 = not locked
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
    std::int64_t last_sign_in_at = 0;
};
BOOST_DESCRIBE_STRUCT(operator_record, (),
                      (id, name, role, password_digest, totp_secret, totp_last_step, failed_attempts, locked_until,
                       created_at, updated_at, last_sign_in_at))

/// A one-time console sign-in link (`latchkey console-link`).
struct console_link_record {
    std::string digest;  ///< SHA-256 (hex) of the link's token
    std::string operator_id;
    std::int64_t created_at = 0;
    std::int64_t expires_at = 0;
    std::int64_t used_at = 0;  ///< 0 = unused
};
BOOST_DESCRIBE_STRUCT(console_link_record, (), (digest, operator_id, created_at, expires_at, used_at))

/// A console session (the HttpOnly cookie holds the token; the store only its digest).
struct console_session_record {
    std::string digest;  ///< SHA-256 (hex) of the cookie's token
    std::string id;      ///< cs_... (shown in the audit log, never a credential)
    std::string operator_id;
    std::string csrf;  ///< the CSRF token every write must echo in a header
    std::string ip;
    std::string user_agent;
    std::int64_t created_at = 0;
    std::int64_t last_active_at = 0;
    std::int64_t ended_at = 0;  ///< 0 = live
};
BOOST_DESCRIBE_STRUCT(console_session_record, (),
                      (digest, id, operator_id, csrf, ip, user_agent, created_at, last_active_at, ended_at))

/// One audit entry: who (operator) did what (action) to whom (target), when, from where (ip), and the outcome.
struct audit_record {
    std::string id;  ///< aud_... (time-ordered)
    std::int64_t at = 0;
    std::string operator_id;
    std::string operator_name;
    std::string action;  ///< "console.sign_in", "POST /v1/users/{user_id}/ban", ...
    std::string target;  ///< the object acted on ("user_...") or ""
    std::string ip;
    std::int32_t status = 0;  ///< HTTP status of the outcome
    std::string detail;
};
BOOST_DESCRIBE_STRUCT(audit_record, (), (id, at, operator_id, operator_name, action, target, ip, status, detail))

class console_view : public kv_reader {
public:
    using kv_reader::kv_reader;

    result<std::optional<operator_record>> operator_by_id(std::string_view id) const noexcept;
    result<std::optional<operator_record>> operator_by_name(std::string_view name) const noexcept;
    /// Every operator, in id (creation) order.
    result<std::vector<operator_record>> operators() const noexcept;
    result<std::optional<console_link_record>> link(std::string_view digest) const noexcept;
    result<std::optional<console_session_record>> session(std::string_view digest) const noexcept;
    /// Audit entries, newest first: at most `limit`, skipping those newer than or equal to `before_id` when it
    /// is non-empty (paging).
    result<std::vector<audit_record>> audit(std::size_t limit, std::string_view before_id = {}) const noexcept;
    /// The counter `name` per bucket in [from, to): (bucket start, value) pairs in bucket order, missing
    /// buckets left out.
    result<std::vector<std::pair<std::int64_t, std::int64_t>>> counters(std::string_view name, std::int64_t from,
                                                                        std::int64_t to) const noexcept;

protected:
    ~console_view() = default;
};

class console_repo : public kv_writer<console_view> {
public:
    using kv_writer::kv_writer;

    /// Inserts (`insert`: errc::key_exists when the id or the name is taken) or updates an operator (its name
    /// never changes).
    result<void> put_operator(operator_record const& o, bool insert) noexcept;
    result<void> put_link(console_link_record const& l) noexcept;
    result<void> put_session(console_session_record const& s) noexcept;
    result<void> put_audit(audit_record const& a) noexcept;
    /// Adds `delta` to the counter `name` in the bucket starting at `bucket` (a few bytes per bucket: what the
    /// console's charts read instead of scanning).
    result<void> bump(std::string_view name, std::int64_t bucket, std::int64_t delta = 1) noexcept;

protected:
    ~console_repo() = default;
};

}  // namespace latchkey::store
