#pragma once
// The store: one LMDB environment with every table opened once. Repositories below are synchronous,
// short and never cross a co_await (LMDB txns are bound to threads; see store/lmdb.hpp).
#include "store/error.hpp"
#include "store/lmdb.hpp"
#include "store/records.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::store {

struct options {
    std::string dir;                             ///< created if missing
    std::uint64_t map_size = 1ull << 34;         ///< 16 GiB sparse
    bool durable = true;                         ///< false = MDB_NOSYNC (opt-in, documented)
    unsigned max_readers = 1024;
};

/// Which unique index a key_exists came from (for meta.param_name).
enum class unique_field { none, email_address, phone_number, username, external_id, jwt_template_name };

/// Users filter for list/count (BAPI GET /v1/users). All given filters AND together; within one vector, OR.
struct user_filter {
    std::vector<std::string> email_addresses;  ///< normalized
    std::vector<std::string> phone_numbers;
    std::vector<std::string> usernames;
    std::vector<std::string> user_ids;
    std::vector<std::string> external_ids;
    std::string query;     ///< substring over id, emails, phones, username, names (case-insensitive)
    std::string order_by = "-created_at";  ///< [+|-]created_at|updated_at|last_sign_in_at|email_address|username|first_name|last_name
    std::size_t limit = 10;
    std::size_t offset = 0;
};

class db {
public:
    static result<db> open(options const& o) noexcept;
    db(db&&) noexcept = default;
    db& operator=(db&&) noexcept = default;
    ~db() = default;

    env& environment() noexcept { return env_; }

    /// Runs f in a read txn. f: (read_txn&) -> result<T>.
    template <class F>
    auto with_read(F&& f) const -> decltype(f(std::declval<read_txn&>()));
    /// Runs f in a write txn; commits when f returns a value, aborts on error. f: (write_txn&) -> result<T>.
    template <class F>
    auto with_write(F&& f) -> decltype(f(std::declval<write_txn&>()));

    // ---- users (maintains unique indexes: normalized email, E.164 phone, lowercase username, external_id,
    //      and idn_ id -> user id) ----
    /// key_exists with `conflict` set to the taken field.
    result<void> put_user(write_txn& w, user_record const& u, user_record const* previous,
                          unique_field* conflict = nullptr) const noexcept;
    result<void> delete_user(write_txn& w, user_record const& u) const noexcept;
    result<std::optional<user_record>> get_user(txn const& t, std::string_view id) const noexcept;
    result<std::optional<std::string>> user_id_by_email(txn const& t, std::string_view normalized) const noexcept;
    result<std::optional<std::string>> user_id_by_phone(txn const& t, std::string_view e164) const noexcept;
    result<std::optional<std::string>> user_id_by_username(txn const& t, std::string_view lower) const noexcept;
    result<std::optional<std::string>> user_id_by_external_id(txn const& t, std::string_view v) const noexcept;
    result<std::optional<std::string>> user_id_by_identification(txn const& t, std::string_view idn) const noexcept;
    result<std::vector<user_record>> list_users(txn const& t, user_filter const& f) const noexcept;
    result<std::size_t> count_users(txn const& t, user_filter const& f) const noexcept;

    // ---- sessions (index user_id -> session ids) ----
    result<void> put_session(write_txn& w, session_record const& s) const noexcept;
    result<std::optional<session_record>> get_session(txn const& t, std::string_view id) const noexcept;
    /// Sessions of a user, newest first.
    result<std::vector<session_record>> sessions_of_user(txn const& t, std::string_view user_id) const noexcept;
    /// All sessions, newest first, optionally filtered (empty = any).
    result<std::vector<session_record>> list_sessions(txn const& t, std::string_view user_id,
        std::string_view client_id, std::string_view status, std::size_t limit, std::size_t offset,
        std::size_t* total) const noexcept;

    // ---- clients ----
    result<void> put_client(write_txn& w, client_record const& c) const noexcept;
    result<void> delete_client(write_txn& w, std::string_view id) const noexcept;
    result<std::optional<client_record>> get_client(txn const& t, std::string_view id) const noexcept;
    /// Newest first.
    result<std::vector<client_record>> list_clients(txn const& t, std::size_t limit, std::size_t offset,
                                                    std::size_t* total) const noexcept;

    // ---- sign-in / sign-up attempts ----
    result<void> put_sign_in(write_txn& w, sign_in_record const& s) const noexcept;
    result<std::optional<sign_in_record>> get_sign_in(txn const& t, std::string_view id) const noexcept;
    result<void> put_sign_up(write_txn& w, sign_up_record const& s) const noexcept;
    result<std::optional<sign_up_record>> get_sign_up(txn const& t, std::string_view id) const noexcept;

    // ---- dev browsers ----
    result<void> put_dev_browser(write_txn& w, dev_browser_record const& d) const noexcept;
    result<std::optional<dev_browser_record>> get_dev_browser(txn const& t, std::string_view id) const noexcept;

    // ---- JWT templates (unique name index) ----
    result<void> put_jwt_template(write_txn& w, jwt_template_record const& j, jwt_template_record const* previous)
        const noexcept;
    result<void> delete_jwt_template(write_txn& w, jwt_template_record const& j) const noexcept;
    result<std::optional<jwt_template_record>> get_jwt_template(txn const& t, std::string_view id) const noexcept;
    result<std::optional<jwt_template_record>> jwt_template_by_name(txn const& t, std::string_view name)
        const noexcept;
    result<std::vector<jwt_template_record>> list_jwt_templates(txn const& t) const noexcept;

    // ---- small key/value meta table (instance id, schema version, ...) ----
    result<void> put_meta(write_txn& w, std::string_view key, std::string_view value) const noexcept;
    result<std::optional<std::string>> get_meta(txn const& t, std::string_view key) const noexcept;
    result<void> delete_meta(write_txn& w, std::string_view key) const noexcept;

    /// Bulk seeding (benchmarks): call put_user/put_session/put_client in write txns of 10-50k records each,
    /// on a store opened with durable=false, then `sync()`.
    result<void> sync() noexcept;

    db() = default;

private:
    env env_;
    struct tables {
        MDB_dbi users = 0, sessions = 0, clients = 0, sign_ins = 0, sign_ups = 0, dev_browsers = 0,
                jwt_templates = 0, meta = 0, users_by_email = 0, users_by_phone = 0, users_by_username = 0,
                users_by_external_id = 0, users_by_identification = 0, sessions_by_user = 0,
                jwt_templates_by_name = 0;
    } t_;
};

}  // namespace latchkey::store

#include "store/db_impl.hpp"  // with_read / with_write bodies
