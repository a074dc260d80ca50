#pragma once
// THE store seam: backend-neutral transactions and one repository per family of records. Handlers, the domain
// layer and the tests see only this header (and records.hpp); a backend (store/lmdb/, store/memory/, later
// store/pg/) implements it, and only the composition root (server/run.cpp) names a backend.
//
// Transactions: `database::with_read(f)` runs f(read_txn&) on one consistent snapshot; `with_write(f)` runs
// f(write_txn&) and commits when f returns a value, aborts when it returns an error (then nothing f wrote is
// visible, to anyone, ever). One writer at a time; a txn never crosses a co_await and is used by one thread.
// `after_commit(fn)` queues fn to run after a successful commit (in order, on the committing thread), never
// after an abort: the place for side effects that must not run inside a txn or for a write that did not land
// (token cache evictions, message deliveries).
//
// Repositories: `t.users()`, `t.sessions()`, ... A read txn hands out the read half (`users_view const&`), a
// write txn also the write half (`users_repo&`). Every function returns values (no views into the backend), so
// results outlive the txn. Absence in a lookup is an empty optional, never an error.
//
// Adding a family (see docs/architecture.md): a `<family>_view`/`<family>_repo` pair here, its accessor on
// read_txn/write_txn, and the implementation in each backend (store/lmdb/db.cpp, store/memory/db.cpp); the
// contract suite (tests/unit/store/contract_cases.ipp) then runs the same cases against both.
//
// The rules every backend keeps (the contract suite checks them):
//   - Keys (ids, index keys such as a lowercased email) are 1..max_key_size bytes: writing an empty or longer
//     one is errc::invalid_key before anything is written; looking one up finds nothing.
//   - Users: unique owning claims on emails/phones, unique usernames (lowercased), external ids and
//     identification ids; pending claims (unverified) are not unique and are released when someone owns the
//     address. The full rule is documented on users_repo::put.
//   - Record ids are Clerk's time-ordered ids: id order is creation order, "newest first" is reverse id order.
#include "store/console.hpp"
#include "store/error.hpp"
#include "store/oauth.hpp"
#include "store/organizations.hpp"
#include "store/records.hpp"
#include "store/tickets.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace latchkey::store {

/// The longest key any backend stores (LMDB's compile-time default). Longer or empty keys can never be stored:
/// lookups of them find nothing and writes fail with errc::invalid_key.
inline constexpr std::size_t max_key_size = 511;

/// Which unique index a key_exists came from (for meta.param_name).
enum class unique_field { none, email_address, phone_number, username, external_id, jwt_template_name };

/// The field's name as the API's meta.param_name spells it ("" for none; a template's name is "name").
constexpr std::string_view param_name(unique_field f) noexcept {
    switch (f) {
        case unique_field::email_address:
            return "email_address";
        case unique_field::phone_number:
            return "phone_number";
        case unique_field::username:
            return "username";
        case unique_field::external_id:
            return "external_id";
        case unique_field::jwt_template_name:
            return "name";
        case unique_field::none:
            break;
    }
    return {};
}

/// Users filter for list/count (BAPI GET /v1/users). All given filters AND together; within one vector, OR.
struct user_filter {
    std::vector<std::string> email_addresses;  ///< matched case-insensitively, owning and pending claims alike
    std::vector<std::string> phone_numbers;    ///< E.164, matched exactly, owning and pending claims alike
    std::vector<std::string> usernames;        ///< matched case-insensitively
    std::vector<std::string> user_ids;
    std::vector<std::string> external_ids;
    std::string query;  ///< substring over id, emails, phones, username, names, external_id (ASCII case-insensitive)
    /// [+|-]created_at|updated_at|last_sign_in_at|last_active_at|email_address|phone_number|username|first_name|
    /// last_name; "-" (the default) is descending. Anything else is treated as "-created_at". created_at order is
    /// id (creation) order; string orders compare ASCII-lowercased, email_address/phone_number use the primary
    /// one; ties keep creation order in the requested direction.
    std::string order_by = "-created_at";
    std::size_t limit = 10;
    std::size_t offset = 0;
    // ---- the search (issue 23) ----
    /// A prefix search over the search terms (rules.hpp search_terms: ids, external ids, usernames, emails and
    /// their domains, phones with and without '+', wallets, first, last and full names), ASCII case-insensitive:
    /// a user matches when one of its terms starts with it (empty = no search). BAPI `query` is this. Backends
    /// answer it from an index; in creation order (the default) a page costs about what the page holds whatever
    /// the number of matches (rules.hpp search_budget), other orders sort every match.
    std::string search;
    /// count() of a `search` with more matches than this answers this number ("at least"; Elasticsearch's
    /// track_total_hits default): counting a broad prefix exactly would read every match.
    std::size_t search_count_cap = 10'000;
};

// ---- repositories: a read half (const, on every txn) and a write half (on write txns) per family ----

/// Users, with their unique indexes (lowercased email and phone as stored for owning claims, lowercased username,
/// external_id, identification id) and the pending-claim index.
class users_view {
public:
    virtual result<std::optional<user_record>> get(std::string_view id) const noexcept = 0;
    /// Index lookups: the id of the user holding the key, if any. Email and username are lowercased here.
    /// Email and phone find the OWNER only (a verified or reserved claim), never a pending claim.
    virtual result<std::optional<std::string>> id_by_email(std::string_view normalized) const noexcept = 0;
    virtual result<std::optional<std::string>> id_by_phone(std::string_view e164) const noexcept = 0;
    virtual result<std::optional<std::string>> id_by_username(std::string_view lower) const noexcept = 0;
    virtual result<std::optional<std::string>> id_by_external_id(std::string_view v) const noexcept = 0;
    virtual result<std::optional<std::string>> id_by_identification(std::string_view idn) const noexcept = 0;
    /// Users matching f, ordered per f.order_by, then f.offset skipped and at most f.limit returned.
    virtual result<std::vector<user_record>> list(user_filter const& f) const noexcept = 0;
    /// How many users match f (limit, offset and order_by ignored; a `search` counts up to f.search_count_cap).
    virtual result<std::size_t> count(user_filter const& f) const noexcept = 0;

protected:
    ~users_view() = default;
};

class users_repo : public users_view {
public:
    /// Inserts (`previous` == nullptr) or updates a user and its index entries. Every unique key u holds is
    /// checked before anything is written: a key held by ANOTHER user (for an email/phone: owned by another
    /// user, whether u's claim on it owns or is pending), a duplicate inside u (an address twice, in any state),
    /// or an insert whose id is taken is errc::key_exists with `*conflict` naming the field (unique_field::none
    /// for ids). Then other users' pending claims on the addresses u owns are removed: the identification leaves
    /// their record, a primary pointing at it moves to another owning claim of the kind or is cleared, their
    /// updated_at becomes the writer's. Index keys the user no longer holds are removed; they are computed from
    /// the stored record (a stale `previous` cannot leave dangling keys). Empty username/external_id are not
    /// indexed. errc::invalid_key (also before any write) when the id is empty or a key is too long.
    virtual result<void> put(user_record const& u, user_record const* previous,
                             unique_field* conflict = nullptr) noexcept = 0;
    /// Removes the user, its index entries and its link to its sessions. The session records stay (callers end
    /// them first); sessions().of_user no longer lists them. Removing a missing user is not an error.
    virtual result<void> remove(user_record const& u) noexcept = 0;

protected:
    ~users_repo() = default;
};

class sessions_view {
public:
    virtual result<std::optional<session_record>> get(std::string_view id) const noexcept = 0;
    /// Sessions of a user, newest first.
    virtual result<std::vector<session_record>> of_user(std::string_view user_id) const noexcept = 0;
    /// All sessions, newest first, optionally filtered (empty = any); `*total` (if given) = count after
    /// filtering, before offset/limit. A client's sessions come from its session_ids (or, for a missing client,
    /// a scan).
    virtual result<std::vector<session_record>> list(std::string_view user_id, std::string_view client_id,
                                                     std::string_view status, std::size_t limit, std::size_t offset,
                                                     std::size_t* total) const noexcept = 0;

protected:
    ~sessions_view() = default;
};

class sessions_repo : public sessions_view {
public:
    /// Stores a session and its link to its user (none for an empty user_id). A session's user_id never changes.
    virtual result<void> put(session_record const& s) noexcept = 0;

protected:
    ~sessions_repo() = default;
};

class clients_view {
public:
    virtual result<std::optional<client_record>> get(std::string_view id) const noexcept = 0;
    /// Newest first; `*total` (if given) = number of clients.
    virtual result<std::vector<client_record>> list(std::size_t limit, std::size_t offset,
                                                    std::size_t* total) const noexcept = 0;

protected:
    ~clients_view() = default;
};

class clients_repo : public clients_view {
public:
    virtual result<void> put(client_record const& c) noexcept = 0;
    virtual result<void> remove(std::string_view id) noexcept = 0;

protected:
    ~clients_repo() = default;
};

/// A family of records found by id only (sign-in and sign-up attempts, dev browsers).
template <class Record>
class by_id_view {
public:
    virtual result<std::optional<Record>> get(std::string_view id) const noexcept = 0;

protected:
    ~by_id_view() = default;
};

template <class Record>
class by_id_repo : public by_id_view<Record> {
public:
    virtual result<void> put(Record const& r) noexcept = 0;
    /// Removing a missing record is not an error.
    virtual result<void> remove(std::string_view id) noexcept = 0;

protected:
    ~by_id_repo() = default;
};

using sign_ins_view = by_id_view<sign_in_record>;
using sign_ins_repo = by_id_repo<sign_in_record>;
using sign_ups_view = by_id_view<sign_up_record>;
using sign_ups_repo = by_id_repo<sign_up_record>;
using dev_browsers_view = by_id_view<dev_browser_record>;
using dev_browsers_repo = by_id_repo<dev_browser_record>;
using images_view = by_id_view<image_record>;  ///< profile images and organization logos (issue 14)
using images_repo = by_id_repo<image_record>;

/// JWT templates, with a unique name index.
class jwt_templates_view {
public:
    virtual result<std::optional<jwt_template_record>> get(std::string_view id) const noexcept = 0;
    virtual result<std::optional<jwt_template_record>> by_name(std::string_view name) const noexcept = 0;
    /// Every template, oldest first.
    virtual result<std::vector<jwt_template_record>> list() const noexcept = 0;

protected:
    ~jwt_templates_view() = default;
};

class jwt_templates_repo : public jwt_templates_view {
public:
    /// Inserts (`previous` == nullptr) or updates a template. A name held by another template, or an insert
    /// whose id is taken, is errc::key_exists (`*conflict` = jwt_template_name / none); an empty or over-long id
    /// or name is errc::invalid_key. A rename frees the old name (computed from the stored record).
    virtual result<void> put(jwt_template_record const& j, jwt_template_record const* previous,
                             unique_field* conflict = nullptr) noexcept = 0;
    /// Removes the template and its name. Removing a missing template is not an error.
    virtual result<void> remove(jwt_template_record const& j) noexcept = 0;

protected:
    ~jwt_templates_repo() = default;
};

/// A small string -> string table (instance id, schema versions, ...).
class meta_view {
public:
    virtual result<std::optional<std::string>> get(std::string_view key) const noexcept = 0;

protected:
    ~meta_view() = default;
};

class meta_repo : public meta_view {
public:
    virtual result<void> put(std::string_view key, std::string_view value) noexcept = 0;
    /// Removing a missing key is not an error.
    virtual result<void> remove(std::string_view key) noexcept = 0;

protected:
    ~meta_repo() = default;
};

/// The delivery queue's jobs (store/queue.hpp holds the queue's rules over this family). A pending job is due
/// at its next_attempt_at; a dead one is kept for inspection and is never due.
struct queue_counts {
    std::size_t pending = 0;  ///< jobs waiting or in flight
    std::size_t dead = 0;     ///< jobs that ran out of attempts
};

class jobs_view {
public:
    virtual result<std::optional<job_record>> get(std::string_view id) const noexcept = 0;
    /// Pending jobs with next_attempt_at <= now_ms, earliest due first (ties in id order), at most `max`.
    virtual result<std::vector<job_record>> due(std::int64_t now_ms, std::size_t max) const noexcept = 0;
    /// When the earliest pending job is due, or empty when none is pending.
    virtual result<std::optional<std::int64_t>> next_due() const noexcept = 0;
    /// Every job (pending and dead), in id (creation) order, at most `limit`.
    virtual result<std::vector<job_record>> list(std::size_t limit) const noexcept = 0;
    virtual result<queue_counts> counts() const noexcept = 0;

protected:
    ~jobs_view() = default;
};

class jobs_repo : public jobs_view {
public:
    /// Inserts (`insert`: errc::key_exists when the id is taken) or replaces a job; its due entry follows the
    /// stored record (pending: due at next_attempt_at; dead: not due). errc::invalid_key for an empty id.
    virtual result<void> put(job_record const& j, bool insert) noexcept = 0;
    /// Removing a missing job is not an error.
    virtual result<void> remove(std::string_view id) noexcept = 0;

protected:
    ~jobs_repo() = default;
};

/// BAPI waitlist list filter: `query` is a case-insensitive substring of the email address or the id; `status`
/// exact; order_by [+|-]created_at|email_address|invited_at (default -created_at; the API refuses others).
struct waitlist_filter {
    std::string query;
    std::string status;
    std::string order_by = "-created_at";
    std::size_t limit = 10;
    std::size_t offset = 0;
};

/// Waitlist entries, with a unique index on the (lowercased) email address: one entry per address.
class waitlist_view {
public:
    virtual result<std::optional<waitlist_entry_record>> get(std::string_view id) const noexcept = 0;
    /// The entry for an address (already lowercased), if any.
    virtual result<std::optional<waitlist_entry_record>> by_email(std::string_view email) const noexcept = 0;
    /// Entries matching f, ordered, paged (store/waitlist.hpp: select); `*total` = matches before paging.
    virtual result<std::vector<waitlist_entry_record>> list(waitlist_filter const& f,
                                                            std::size_t* total) const noexcept = 0;
    virtual result<std::size_t> count() const noexcept = 0;

protected:
    ~waitlist_view() = default;
};

class waitlist_repo : public waitlist_view {
public:
    /// Inserts (`insert`: errc::key_exists when the id or the address already has an entry) or updates an
    /// entry; the address of an entry never changes.
    virtual result<void> put(waitlist_entry_record const& r, bool insert) noexcept = 0;
    /// Removing a missing entry is not an error.
    virtual result<void> remove(waitlist_entry_record const& r) noexcept = 0;

protected:
    ~waitlist_repo() = default;
};

// ---- transactions ----

/// A consistent snapshot. Lives on the stack of database::with_read / with_write; never copied or kept.
class read_txn {
public:
    read_txn(read_txn const&) = delete;
    read_txn& operator=(read_txn const&) = delete;

    /// The snapshot's version: moves (upwards) with every committed write, by any writer; two txns with the same
    /// version see the same data. For caches keyed on "nothing changed since".
    virtual std::uint64_t version() const noexcept = 0;

    virtual users_view const& users() const noexcept = 0;
    virtual sessions_view const& sessions() const noexcept = 0;
    virtual clients_view const& clients() const noexcept = 0;
    virtual sign_ins_view const& sign_ins() const noexcept = 0;
    virtual sign_ups_view const& sign_ups() const noexcept = 0;
    virtual dev_browsers_view const& dev_browsers() const noexcept = 0;
    virtual jwt_templates_view const& jwt_templates() const noexcept = 0;
    virtual meta_view const& meta() const noexcept = 0;
    virtual jobs_view const& jobs() const noexcept = 0;
    virtual waitlist_view const& waitlist() const noexcept = 0;
    virtual organizations_view const& organizations() const noexcept = 0;
    virtual images_view const& images() const noexcept = 0;
    virtual tickets_view const& tickets() const noexcept = 0;  // issue 14: sign-in/actor tokens, invitations
    virtual oauth_view const& oauth() const noexcept = 0;
    virtual console_view const& console() const noexcept = 0;  // issue 23: the admin console

protected:
    read_txn() = default;
    ~read_txn() = default;
};

/// The (single) write transaction: reads see its own writes. On a non-const write_txn the accessors return the
/// write halves.
class write_txn : public read_txn {
public:
    using read_txn::clients;
    using read_txn::console;
    using read_txn::dev_browsers;
    using read_txn::images;
    using read_txn::jobs;
    using read_txn::jwt_templates;
    using read_txn::meta;
    using read_txn::oauth;
    using read_txn::organizations;
    using read_txn::sessions;
    using read_txn::sign_ins;
    using read_txn::sign_ups;
    using read_txn::tickets;
    using read_txn::users;
    using read_txn::waitlist;

    virtual users_repo& users() noexcept = 0;
    virtual sessions_repo& sessions() noexcept = 0;
    virtual clients_repo& clients() noexcept = 0;
    virtual sign_ins_repo& sign_ins() noexcept = 0;
    virtual sign_ups_repo& sign_ups() noexcept = 0;
    virtual dev_browsers_repo& dev_browsers() noexcept = 0;
    virtual jwt_templates_repo& jwt_templates() noexcept = 0;
    virtual meta_repo& meta() noexcept = 0;
    virtual jobs_repo& jobs() noexcept = 0;
    virtual waitlist_repo& waitlist() noexcept = 0;
    virtual organizations_repo& organizations() noexcept = 0;
    virtual images_repo& images() noexcept = 0;
    virtual tickets_repo& tickets() noexcept = 0;
    virtual oauth_repo& oauth() noexcept = 0;
    virtual console_repo& console() noexcept = 0;

    /// Runs `fn` after this txn commits (in the order queued), never when it aborts. Hooks must not throw (one
    /// that does is dropped: the commit has happened) and must not open a write txn on the same database.
    void after_commit(std::function<void()> fn) { hooks_.push_back(std::move(fn)); }

protected:
    write_txn() = default;
    ~write_txn() = default;
    /// For backends: runs the queued hooks once the commit succeeded.
    void run_after_commit() noexcept {
        for (auto& h : hooks_) {
            try {
                h();
            } catch (...) {  // NOLINT(bugprone-empty-catch): the write landed; a failed side effect cannot undo it
            }
        }
        hooks_.clear();
    }

private:
    std::vector<std::function<void()>> hooks_;  // empty (no allocation) unless a hook is queued
};

/// For backends: a write_txn whose accessors hand out the members of `Repos`, a struct with one repository per
/// family (members users, sessions, clients, sign_ins, sign_ups, dev_browsers, jwt_templates, meta), built in place
/// from the constructor's arguments. A backend's txn derives from it and adds version().
template <class Repos>
class txn_of : public write_txn {
public:
    users_view const& users() const noexcept final { return r_.users; }
    sessions_view const& sessions() const noexcept final { return r_.sessions; }
    clients_view const& clients() const noexcept final { return r_.clients; }
    sign_ins_view const& sign_ins() const noexcept final { return r_.sign_ins; }
    sign_ups_view const& sign_ups() const noexcept final { return r_.sign_ups; }
    dev_browsers_view const& dev_browsers() const noexcept final { return r_.dev_browsers; }
    jwt_templates_view const& jwt_templates() const noexcept final { return r_.jwt_templates; }
    meta_view const& meta() const noexcept final { return r_.meta; }
    jobs_view const& jobs() const noexcept final { return r_.jobs; }
    waitlist_view const& waitlist() const noexcept final { return r_.waitlist; }
    organizations_view const& organizations() const noexcept final { return r_.organizations; }
    images_view const& images() const noexcept final { return r_.images; }
    tickets_view const& tickets() const noexcept final { return r_.tickets; }
    oauth_view const& oauth() const noexcept final { return r_.oauth; }
    console_view const& console() const noexcept final { return r_.console; }

    users_repo& users() noexcept final { return r_.users; }
    sessions_repo& sessions() noexcept final { return r_.sessions; }
    clients_repo& clients() noexcept final { return r_.clients; }
    sign_ins_repo& sign_ins() noexcept final { return r_.sign_ins; }
    sign_ups_repo& sign_ups() noexcept final { return r_.sign_ups; }
    dev_browsers_repo& dev_browsers() noexcept final { return r_.dev_browsers; }
    jwt_templates_repo& jwt_templates() noexcept final { return r_.jwt_templates; }
    meta_repo& meta() noexcept final { return r_.meta; }
    jobs_repo& jobs() noexcept final { return r_.jobs; }
    waitlist_repo& waitlist() noexcept final { return r_.waitlist; }
    organizations_repo& organizations() noexcept final { return r_.organizations; }
    images_repo& images() noexcept final { return r_.images; }
    tickets_repo& tickets() noexcept final { return r_.tickets; }
    oauth_repo& oauth() noexcept final { return r_.oauth; }
    console_repo& console() noexcept final { return r_.console; }

    /// Runs the after_commit hooks: the backend calls it once its commit succeeded.
    void committed() noexcept { run_after_commit(); }

protected:
    template <class... A>
    explicit txn_of(A&&... a) : r_(std::forward<A>(a)...) {}
    ~txn_of() = default;

    Repos r_;
};

/// A non-owning reference to a callable (no allocation): how with_read/with_write reach a backend through one
/// virtual call.
template <class Sig>
class function_ref;

template <class R, class... Args>
class function_ref<R(Args...)> {
public:
    /// Refers to `f`, which outlives the call it is passed to. Implicit: a parameter takes any callable.
    template <class F, class = std::enable_if_t<!std::is_same_v<std::remove_cvref_t<F>, function_ref>>>
    function_ref(F&& f) noexcept  // NOLINT(google-explicit-constructor)
        : obj_(const_cast<void*>(static_cast<void const*>(std::addressof(f)))), call_([](void* o, Args... a) -> R {
              return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<Args>(a)...);
          }) {}
    R operator()(Args... a) const { return call_(obj_, std::forward<Args>(a)...); }

private:
    void* obj_;
    R (*call_)(void*, Args...);
};

/// The size of a store's data (GET /metrics).
struct storage_usage {
    std::uint64_t map_size = 0;    ///< the configured upper bound (bytes; LMDB's map size)
    std::uint64_t used_bytes = 0;  ///< bytes in use (LMDB: pages up to the last one written)
    std::uint64_t readers = 0;     ///< reader slots in use
};

/// A store: where transactions begin. Thread-safe: any number of threads may run transactions at once.
class database {
public:
    database() = default;
    database(database const&) = delete;
    database& operator=(database const&) = delete;
    virtual ~database() = default;

    /// Runs f in a read txn. f: (read_txn&) -> result<T> (or api_result<T>: anything constructible from an
    /// error_code).
    template <class F>
    auto with_read(F&& f) const -> decltype(f(std::declval<read_txn&>()));
    /// Runs f in a write txn; commits when f returns a value, aborts on error (nothing f wrote is then visible),
    /// then runs the after_commit hooks of a commit. f: (write_txn&) -> result<T>. One writer at a time: keep f
    /// short and never co_await inside it.
    template <class F>
    auto with_write(F&& f) -> decltype(f(std::declval<write_txn&>()));

    /// The version of the last committed write (see read_txn::version).
    virtual std::uint64_t version() const noexcept = 0;
    /// How much room the store takes (for the operator's metrics); zeros for a backend without a bounded map.
    virtual result<storage_usage> usage() const noexcept { return storage_usage{}; }
    /// Flushes committed data to durable storage (after writes to a store opened without per-commit sync).
    virtual result<void> sync() noexcept = 0;

protected:
    /// Runs body on a fresh snapshot; the error of beginning the txn, else body's.
    virtual result<void> run_read(function_ref<result<void>(read_txn&)> body) const = 0;
    /// Runs body in the write txn; commits when it returns a value (then calls run_after_commit), aborts when it
    /// returns an error or throws (the exception passes on). Returns the error of beginning, of body or of the
    /// commit.
    virtual result<void> run_write(function_ref<result<void>(write_txn&)> body) = 0;
};

template <class F>
auto database::with_read(F&& f) const -> decltype(f(std::declval<read_txn&>())) {
    using R = decltype(f(std::declval<read_txn&>()));
    std::optional<R> out;
    auto r = run_read([&](read_txn& t) -> result<void> {
        out.emplace(f(t));
        return {};
    });
    if (!r) return R(r.error());
    return std::move(*out);
}

template <class F>
auto database::with_write(F&& f) -> decltype(f(std::declval<write_txn&>())) {
    using R = decltype(f(std::declval<write_txn&>()));
    std::optional<R> out;
    auto r = run_write([&](write_txn& w) -> result<void> {
        out.emplace(f(w));
        if (!*out) return out->error();  // abort: nothing f wrote lands
        return {};
    });
    if (out && !*out) return std::move(*out);  // f's own error, as it returned it
    if (!r) return R(r.error());               // beginning or committing failed
    return std::move(*out);
}

/// Records per write txn in seed().
inline constexpr std::size_t seed_batch = 10000;

/// Bulk load (benchmarks, imports): inserts the users (users().put with previous = nullptr, so every unique key
/// is checked and indexed), then the sessions, then the clients, in write txns of `batch` records each, then
/// sync(). Each batch commits on its own: on an error the batches before it stay and the failing one is rolled
/// back.
result<void> seed(database& db, std::vector<user_record> const& users, std::vector<session_record> const& sessions,
                  std::vector<client_record> const& clients, std::size_t batch = seed_batch) noexcept;

}  // namespace latchkey::store
