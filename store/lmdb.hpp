#pragma once
// RAII over LMDB: environment, read and write transactions, cursors. The only header that includes <lmdb.h>.
// Transactions are bound to threads: never keep one alive across a co_await (the env is opened MDB_NOTLS so
// read txns don't pin thread-local reader slots).
#include "store/error.hpp"

#include <lmdb.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace latchkey::store {

struct env_closer {
    void operator()(MDB_env* p) const noexcept { ::mdb_env_close(p); }
};

/// Maps an LMDB return code to store::errc (MDB_NOTFOUND is not an error and must be handled by callers).
boost::system::error_code lmdb_error(int rc, char const* what) noexcept;

class env {
public:
    env() = default;
    /// Opens (creating the directory, mode 0700) the environment at `dir`.
    result<void> open(std::string const& dir, std::uint64_t map_size, unsigned max_dbs, bool durable,
                      unsigned max_readers) noexcept;
    MDB_env* get() const noexcept { return env_.get(); }
    explicit operator bool() const noexcept { return env_ != nullptr; }

private:
    std::unique_ptr<MDB_env, env_closer> env_;
};

/// A transaction. Views returned by get() are valid until the txn ends or the next write in it.
class txn {
public:
    txn(txn const&) = delete;
    txn& operator=(txn const&) = delete;
    result<std::optional<std::string_view>> get(MDB_dbi dbi, std::string_view key) const noexcept;
    MDB_txn* handle() const noexcept { return txn_; }

protected:
    txn() = default;
    txn(txn&& o) noexcept : txn_(std::exchange(o.txn_, nullptr)) {}
    ~txn() {
        if (txn_ != nullptr) ::mdb_txn_abort(txn_);
    }
    MDB_txn* txn_ = nullptr;
};

class read_txn : public txn {
public:
    static result<read_txn> begin(env const& e) noexcept;
    read_txn(read_txn&&) noexcept = default;
    read_txn& operator=(read_txn&&) = delete;
    ~read_txn() = default;

private:
    read_txn() = default;
};

class write_txn : public txn {
public:
    static result<write_txn> begin(env const& e) noexcept;
    write_txn(write_txn&&) noexcept = default;
    write_txn& operator=(write_txn&&) = delete;
    ~write_txn() = default;

    result<void> put(MDB_dbi dbi, std::string_view key, std::string_view val, unsigned flags = 0) noexcept;
    /// Deleting a missing key is not an error.
    result<void> del(MDB_dbi dbi, std::string_view key) noexcept;
    /// Commits; the txn is consumed either way (LMDB frees the handle even when commit fails).
    result<void> commit() && noexcept;
    /// Opens (creating) a named database; for db::open only.
    result<MDB_dbi> open_dbi(char const* name) noexcept;

private:
    write_txn() = default;
};

/// A cursor, scoped inside its txn.
class cursor {
public:
    cursor(txn const& t, MDB_dbi dbi) noexcept;
    ~cursor() {
        if (c_ != nullptr) ::mdb_cursor_close(c_);
    }
    cursor(cursor const&) = delete;
    cursor& operator=(cursor const&) = delete;
    bool ok() const noexcept { return c_ != nullptr; }

    using entry = std::pair<std::string_view, std::string_view>;
    /// First entry with key >= `key`.
    std::optional<entry> seek(std::string_view key) noexcept { return move(MDB_SET_RANGE, key); }
    std::optional<entry> first() noexcept { return move(MDB_FIRST, {}); }
    std::optional<entry> last() noexcept { return move(MDB_LAST, {}); }
    std::optional<entry> next() noexcept { return move(MDB_NEXT, {}); }
    std::optional<entry> prev() noexcept { return move(MDB_PREV, {}); }

private:
    std::optional<entry> move(MDB_cursor_op op, std::string_view key) noexcept;
    MDB_cursor* c_ = nullptr;
};

}  // namespace latchkey::store
