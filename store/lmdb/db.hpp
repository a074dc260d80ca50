#pragma once
// The LMDB backend of the store seam (store/store.hpp): one LMDB environment with every table opened once. The
// functions below do the work of the repositories (store/lmdb/db.cpp wraps them in the seam's interfaces); they are
// synchronous, short and never cross a co_await (LMDB txns are bound to threads; see store/lmdb/env.hpp).
// Only store/lmdb/ and tests of it include this header; the composition root uses store/lmdb/open.hpp.
//
// Tables (primary key -> encoded record, store/codec.hpp): users, sessions, clients, sign_ins, sign_ups,
// dev_browsers, jwt_templates, meta (string -> string), jobs (+ jobs_due, the due index; see jobs_impl). Unique indexes
// (key -> record id): users_by_email (lowercased email), users_by_phone (as stored), users_by_username (lowercased),
// users_by_external_id, users_by_identification (idn_ id), jwt_templates_by_name. sessions_by_user holds
// "<user_id>\0<session_id>" keys with empty values, and so does users_by_pending_claim with
// "<e|p>\0<address>\0<user_id>" keys. Record ids are Clerk's time-ordered ids, so key order is creation order and
// "newest first" is reverse key order.
//
// Claims on an email address or phone number. The user records are the one source of truth; both indexes
// are derived from them by put_user/delete_user, in the same txn as the record:
//   - An OWNING claim (owns_address(): verified, or reserved) is unique: users_by_email / users_by_phone map
//     the address to its one owner. Only owning claims are found by user_id_by_email/_phone, so only they are
//     sign-in identifiers and only they block a sign-up or another user's claim.
//   - A PENDING claim (added, not yet verified) owns nothing: any number of users may hold the same address
//     pending (users_by_pending_claim, one key per holder), and none of them blocks anyone.
//   - An address is either owned by one user or pending on any number of users, never both: a pending claim
//     on an owned address is refused (key_exists), and writing an owning claim removes the pending claims of
//     every OTHER user on that address (the identification leaves their record, a primary pointing at it
//     moves to another owning claim of the kind or is cleared, their updated_at becomes the writer's), in the
//     same txn. So whoever first proves an address gets it, a squatter's unverified claim never blocks the
//     owner, and a stale claim (with any code pending on it) cannot later displace the owner.
// The rule lives in the store, not in the API handlers, because every writer (FAPI sign-up and /v1/me, BAPI users and
// identifications, seeding) goes through put_user: no path can forget it, and the release is atomic with the
// owning write. The handlers only choose what they write (a verified or a pending claim).
// Stores written before this rule existed indexed every claim as unique; open() moves their pending claims to
// users_by_pending_claim once (meta "identifier_claims" = "2"), losing nothing.
//
// Lifetimes: every function takes the txn it runs in and returns values (no views), so results outlive it.
// Thread-safety: a db may be used from any number of threads; each txn by one thread at a time.
#include "store/error.hpp"
#include "store/lmdb/env.hpp"
#include "store/lmdb/open.hpp"
#include "store/records.hpp"
#include "store/store.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace latchkey::store::lmdb {

class db final : public store::database {
public:
    /// Opens (creating if missing) the store in o.dir and every table, in one write txn.
    static result<std::unique_ptr<db>> open(options const& o) noexcept;
    ~db() override = default;

    env& environment() noexcept { return env_; }

    /// LMDB's id of the last committed write txn (any process's).
    std::uint64_t version() const noexcept override;

    // ---- users (maintains unique indexes: lowercased email and phone as stored for owning claims,
    //      lowercased username, external_id, and idn_ id -> user id; and the pending-claim index) ----
    /// Inserts (`previous` == nullptr) or updates a user and its index entries. Every unique key u holds is
    /// checked before anything is written: a key held by ANOTHER user (for an email/phone: owned by another
    /// user, whether u's claim on it owns or is pending), a duplicate inside u (an address twice, in any state),
    /// or an insert whose id is taken is errc::key_exists with `*conflict` naming the field (unique_field::none
    /// for ids). Then other users' pending claims on the addresses u owns are removed (see "Claims" above).
    /// Index keys the user no longer holds are removed; they are computed from the record stored in this txn
    /// (so a stale `previous` cannot leave dangling keys). Empty username/external_id are not indexed.
    /// errc::invalid_key (also before any write) when the id is empty or a key is longer than max_key_size.
    result<void> put_user(write_txn& w, user_record const& u, user_record const* previous,
                          unique_field* conflict = nullptr) const noexcept;
    /// Removes the user, its index entries and its sessions_by_user entries. The session records stay (callers
    /// end them first); sessions_of_user no longer lists them. Deleting a missing user is not an error.
    result<void> delete_user(write_txn& w, user_record const& u) const noexcept;
    result<std::optional<user_record>> get_user(txn const& t, std::string_view id) const noexcept;
    /// Index lookups: the id of the user holding the key, if any. Email and username are lowercased here.
    /// Email and phone find the OWNER only (a verified or reserved claim), never a pending claim.
    result<std::optional<std::string>> user_id_by_email(txn const& t, std::string_view normalized) const noexcept;
    result<std::optional<std::string>> user_id_by_phone(txn const& t, std::string_view e164) const noexcept;
    result<std::optional<std::string>> user_id_by_username(txn const& t, std::string_view lower) const noexcept;
    result<std::optional<std::string>> user_id_by_external_id(txn const& t, std::string_view v) const noexcept;
    result<std::optional<std::string>> user_id_by_identification(txn const& t, std::string_view idn) const noexcept;
    /// Users matching f, ordered per f.order_by, then f.offset skipped and at most f.limit returned. Without id
    /// filters or query and with created_at order only the returned records are decoded.
    result<std::vector<user_record>> list_users(txn const& t, user_filter const& f) const noexcept;
    /// How many users match f (limit, offset and order_by ignored). O(1) without filters. A search (issue 23) is
    /// answered from users_by_term (see resolve_candidates in db.cpp), counted up to f.search_count_cap.
    result<std::size_t> count_users(txn const& t, user_filter const& f) const noexcept;

    // ---- sessions (index user_id -> session ids) ----
    /// Stores a session and its sessions_by_user entry (none for an empty user_id). A session's user_id never
    /// changes.
    result<void> put_session(write_txn& w, session_record const& s) const noexcept;
    result<std::optional<session_record>> get_session(txn const& t, std::string_view id) const noexcept;
    /// Sessions of a user, newest first.
    result<std::vector<session_record>> sessions_of_user(txn const& t, std::string_view user_id) const noexcept;
    /// All sessions, newest first, optionally filtered (empty = any); `*total` (if given) = count after
    /// filtering, before offset/limit. A client's sessions come from its session_ids (or, for a missing client,
    /// a scan).
    result<std::vector<session_record>> list_sessions(txn const& t, std::string_view user_id,
                                                      std::string_view client_id, std::string_view status,
                                                      std::size_t limit, std::size_t offset,
                                                      std::size_t* total) const noexcept;

    // ---- clients ----
    result<void> put_client(write_txn& w, client_record const& c) const noexcept;
    result<void> delete_client(write_txn& w, std::string_view id) const noexcept;
    result<std::optional<client_record>> get_client(txn const& t, std::string_view id) const noexcept;
    /// Newest first; `*total` (if given) = number of clients. Only the returned records are decoded.
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
    result<void> delete_dev_browser(write_txn& w, std::string_view id) const noexcept;

    // ---- JWT templates (unique name index) ----
    /// Inserts (`previous` == nullptr) or updates a template. A name held by another template, or an insert
    /// whose id is taken, is errc::key_exists (`*conflict` = jwt_template_name / none); an empty or over-long id
    /// or name is errc::invalid_key. A rename frees the old name (computed from the stored record).
    result<void> put_jwt_template(write_txn& w, jwt_template_record const& j, jwt_template_record const* previous,
                                  unique_field* conflict = nullptr) const noexcept;
    /// Removes the template and its name entry. Deleting a missing template is not an error.
    result<void> delete_jwt_template(write_txn& w, jwt_template_record const& j) const noexcept;
    result<std::optional<jwt_template_record>> get_jwt_template(txn const& t, std::string_view id) const noexcept;
    result<std::optional<jwt_template_record>> jwt_template_by_name(txn const& t, std::string_view name) const noexcept;
    /// Every template, oldest first.
    result<std::vector<jwt_template_record>> list_jwt_templates(txn const& t) const noexcept;

    // ---- small key/value meta table (instance id, schema version, ...) ----
    result<void> put_meta(write_txn& w, std::string_view key, std::string_view value) const noexcept;
    result<std::optional<std::string>> get_meta(txn const& t, std::string_view key) const noexcept;
    /// Deleting a missing key is not an error.
    result<void> delete_meta(write_txn& w, std::string_view key) const noexcept;

    /// Flushes committed data to disk (after writes to a store opened with durable=false).
    result<void> sync() noexcept override;
    /// mdb_env_info + mdb_env_stat. Cheap (no txn).
    result<storage_usage> usage() const noexcept override;

    db() = default;

    /// The handles of the store's tables (what the repositories of one txn read).
    struct tables {
        MDB_dbi users = 0, sessions = 0, clients = 0, sign_ins = 0, sign_ups = 0, dev_browsers = 0, jwt_templates = 0,
                meta = 0, users_by_email = 0, users_by_phone = 0, users_by_username = 0, users_by_external_id = 0,
                users_by_identification = 0, sessions_by_user = 0, jwt_templates_by_name = 0,
                users_by_pending_claim = 0, jobs = 0, jobs_due = 0, waitlist_entries = 0, waitlist_by_email = 0;
        MDB_dbi organizations = 0;  ///< the organizations family's ordered table (store/organizations.hpp)
        MDB_dbi images = 0;         ///< uploaded images by id (issue 14)
        MDB_dbi tickets = 0;        ///< the tickets family's ordered table (store/tickets.hpp)
        MDB_dbi oauth = 0;          ///< the OAuth provider family's ordered table (store/oauth.hpp)
        MDB_dbi console = 0;        ///< the admin console family's ordered table (store/console.hpp)
        MDB_dbi users_by_term = 0;  ///< the users' search index: "<term>\0<user id>" -> "" (rules.hpp search_keys)
    };

    // ---- replication (store/pg, issue 16): the tables by name and a write whose changes a sink sees ----
    /// Every table of the store as (name, handle), in a fixed order.
    std::vector<std::pair<std::string, MDB_dbi>> const& tables_by_name() const noexcept { return names_; }
    /// run_write, with every put/del the body makes reported to `sink`; when the body succeeds,
    /// `before_commit(w)` runs in the same txn (the sink detached) and an error from it aborts everything (no
    /// hook runs). The after_commit hooks run once LMDB committed.
    result<void> run_write_with(function_ref<result<void>(store::write_txn&)> body, change_sink& sink,
                                function_ref<result<void>(write_txn&)> before_commit);
    /// run_read, public for a backend layered over this one.
    result<void> read_with(function_ref<result<void>(store::read_txn&)> body) const { return run_read(body); }

protected:
    result<void> run_read(function_ref<result<void>(store::read_txn&)> body) const override;
    result<void> run_write(function_ref<result<void>(store::write_txn&)> body) override;

private:
    class txn_view;
    /// Removes every pending claim of users other than `owner` on `address` (tag 'e'/'p', address as indexed):
    /// put_user's half of "Claims". Not noexcept on its own: put_user's guard catches.
    result<void> release_pending_claims(write_txn& w, char tag, std::string const& address,
                                        user_record const& owner) const;

    env env_;
    tables t_;
    std::vector<std::pair<std::string, MDB_dbi>> names_;  ///< every table of t_ by name (tables_by_name)
};

}  // namespace latchkey::store::lmdb
