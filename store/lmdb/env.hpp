#pragma once
// RAII over LMDB: environment, read and write transactions, cursors. With store/lmdb/db.hpp the only headers that
// include <lmdb.h>; nothing outside store/lmdb/ and the composition root includes them.
//
// Threading: the env is opened with MDB_NOTLS, so a read txn is not tied to the thread that began it (it may be
// used, and ended, on another thread, one thread at a time). A write txn is bound to its thread and blocks every
// other writer: never keep any txn alive across a co_await. Values and keys returned by get() and cursors are
// views into the memory map: valid until the txn ends or the next write in it.
#include "store/error.hpp"
#include "store/store.hpp"  // max_key_size

#include <lmdb.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace latchkey::store::lmdb {

/// Maps an LMDB return code to store::errc and logs the unexpected ones (mdb_strerror and `what`, the LMDB
/// function, one line on stderr). MDB_NOTFOUND is not an error: callers handle it before calling this.
boost::system::error_code lmdb_error(int rc, char const* what) noexcept;

struct env_closer {
    void operator()(MDB_env* p) const noexcept { ::mdb_env_close(p); }
};

namespace detail {
struct reader_pool;
}  // namespace detail

/// An LMDB environment. Default-constructed empty; movable; closed on destruction (every txn and cursor must have
/// ended before). Thread-safe: any number of threads may begin txns on one env.
class env {
public:
    env() noexcept;
    env(env&& o) noexcept;
    env& operator=(env&& o) noexcept;
    env(env const&) = delete;
    env& operator=(env const&) = delete;
    ~env();

    /// Opens the environment in directory `dir`, creating it (mode 0700) if missing. MDB_NOTLS always;
    /// MDB_NOSYNC only when `durable` is false (a crash may then lose the last commits, never corrupt).
    /// A directory holding a file that is not an LMDB environment yields errc::corrupted.
    result<void> open(std::string const& dir, std::uint64_t map_size, unsigned max_dbs, bool durable,
                      unsigned max_readers) noexcept;
    /// Flushes committed data to disk (needed after writes on a non-durable env).
    result<void> sync() noexcept;

    MDB_env* get() const noexcept { return env_.get(); }
    explicit operator bool() const noexcept { return env_ != nullptr; }

private:
    friend class read_txn;
    void close() noexcept;
    std::unique_ptr<MDB_env, env_closer> env_;
    // Reset read txns kept for reuse (mdb_txn_renew is ~7x cheaper than mdb_txn_begin). Released before env_.
    std::unique_ptr<detail::reader_pool> readers_;
};

/// A transaction. Move-only; aborts on destruction unless committed. Never alive across a co_await.
class txn {
public:
    txn(txn const&) = delete;
    txn& operator=(txn const&) = delete;

    /// The value under `key`, or an empty optional when absent (empty and over-long keys are always absent).
    /// The view is valid until this txn ends or the next write in it.
    result<std::optional<std::string_view>> get(MDB_dbi dbi, std::string_view key) const noexcept;
    /// Number of entries in `dbi` (O(1), from mdb_stat).
    result<std::size_t> count(MDB_dbi dbi) const noexcept;
    MDB_txn* handle() const noexcept { return txn_; }
    /// The snapshot's id: the id of the last write committed to the env (by any process) when it began. Two
    /// read txns with the same id see the same data.
    std::uint64_t snapshot_id() const noexcept { return ::mdb_txn_id(txn_); }

protected:
    txn() = default;
    txn(txn&& o) noexcept : txn_(std::exchange(o.txn_, nullptr)) {}
    txn& operator=(txn&&) = delete;
    ~txn() {
        if (txn_ != nullptr) ::mdb_txn_abort(txn_);
    }
    MDB_txn* txn_ = nullptr;
};

/// A read-only snapshot. Cheap: handles are reset and renewed from a per-env pool rather than created.
/// May be moved to, and ended on, another thread (MDB_NOTLS); must end before its env.
class read_txn : public txn {
public:
    static result<read_txn> begin(env const& e) noexcept;
    read_txn(read_txn&& o) noexcept : txn(std::move(o)), pool_(std::exchange(o.pool_, nullptr)) {}
    read_txn& operator=(read_txn&&) = delete;
    ~read_txn();

private:
    read_txn() = default;
    detail::reader_pool* pool_ = nullptr;
};

/// Sees a write txn's puts and deletes as they succeed (store/pg replicates them to PostgreSQL). Never throws.
class change_sink {
public:
    virtual void on_put(MDB_dbi dbi, std::string_view key, std::string_view val) noexcept = 0;
    virtual void on_del(MDB_dbi dbi, std::string_view key) noexcept = 0;

protected:
    ~change_sink() = default;
};

/// The (single) write transaction. Bound to the thread that began it; blocks other writers until it ends.
class write_txn : public txn {
public:
    static result<write_txn> begin(env const& e) noexcept;
    write_txn(write_txn&&) noexcept = default;
    write_txn& operator=(write_txn&&) = delete;
    ~write_txn() = default;

    /// Stores `val` under `key`. MDB_NOOVERWRITE in `flags` turns an existing key into errc::key_exists.
    /// errc::invalid_key for an empty or over-long key, errc::map_full when the map is full (the txn is then
    /// unusable: end it).
    result<void> put(MDB_dbi dbi, std::string_view key, std::string_view val, unsigned flags = 0) noexcept;
    /// Deletes `key`; deleting a missing key is not an error.
    result<void> del(MDB_dbi dbi, std::string_view key) noexcept;
    /// Commits. Consumes the txn either way: LMDB frees the handle even when commit fails.
    result<void> commit() && noexcept;
    /// Opens (creating if missing) a named database. For lmdb::db::open; the handle stays valid for the env's life.
    result<MDB_dbi> open_dbi(char const* name) noexcept;
    /// Reports every later successful put/del to `s` (null: to nobody). For replication (store/pg).
    void record_to(change_sink* s) noexcept { sink_ = s; }
    /// Empties `dbi` (keeps it open). Not reported to the sink.
    result<void> clear(MDB_dbi dbi) noexcept;

private:
    write_txn() = default;
    change_sink* sink_ = nullptr;
};

/// A cursor over one database, scoped inside its txn (in a write txn it must be destroyed before commit, which
/// with_write's lambda scope guarantees). Entries are views, valid like txn::get's.
class cursor {
public:
    using entry = std::pair<std::string_view, std::string_view>;  ///< key, value

    static result<cursor> open(txn const& t, MDB_dbi dbi) noexcept;
    cursor(cursor&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
    cursor& operator=(cursor&&) = delete;
    cursor(cursor const&) = delete;
    cursor& operator=(cursor const&) = delete;
    ~cursor() {
        if (c_ != nullptr) ::mdb_cursor_close(c_);
    }

    /// Positions at the first entry with key >= `key` (MDB_SET_RANGE). Empty optional: no such entry.
    result<std::optional<entry>> seek(std::string_view key) noexcept;
    /// Positions at the last entry with key < `key` (none: empty optional). For reverse prefix scans.
    result<std::optional<entry>> seek_before(std::string_view key) noexcept;
    result<std::optional<entry>> first() noexcept { return move(MDB_FIRST); }
    result<std::optional<entry>> last() noexcept { return move(MDB_LAST); }
    /// The following entry; an empty optional past the end.
    result<std::optional<entry>> next() noexcept { return move(MDB_NEXT); }
    /// The preceding entry; an empty optional before the start.
    result<std::optional<entry>> prev() noexcept { return move(MDB_PREV); }

private:
    cursor() = default;
    result<std::optional<entry>> move(MDB_cursor_op op) noexcept;
    MDB_cursor* c_ = nullptr;
};

}  // namespace latchkey::store::lmdb
