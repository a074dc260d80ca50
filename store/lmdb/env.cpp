#include "store/lmdb/env.hpp"

#include "store/log.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <mutex>
#include <new>
#include <system_error>
#include <vector>

namespace latchkey::store::lmdb {

namespace {

MDB_val to_val(std::string_view s) noexcept { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
std::string_view from_val(MDB_val const& v) noexcept { return {static_cast<char const*>(v.mv_data), v.mv_size}; }

bool storable_key(std::string_view key) noexcept { return !key.empty() && key.size() <= max_key_size; }

void log_failure(std::string_view op, std::string_view detail) noexcept {
    store::log("error", "lmdb", {{"op", op}, {"error", detail}});
}

}  // namespace

boost::system::error_code lmdb_error(int rc, char const* what) noexcept {
    switch (rc) {
        case MDB_KEYEXIST:
            return make_error_code(errc::key_exists);
        case MDB_NOTFOUND:
            return make_error_code(errc::not_found);
        case MDB_MAP_FULL:
            return make_error_code(errc::map_full);
        case MDB_BAD_VALSIZE:
            return make_error_code(errc::invalid_key);
        case MDB_CORRUPTED:
        case MDB_PAGE_NOTFOUND:
        case MDB_INVALID:
        case MDB_VERSION_MISMATCH:
            log_failure(what, ::mdb_strerror(rc));
            return make_error_code(errc::corrupted);
        default:
            log_failure(what, ::mdb_strerror(rc));
            return make_error_code(errc::lmdb);
    }
}

namespace detail {

/// Read txns that were reset and can be renewed (MDB_NOTLS lets any thread renew them). A reset txn keeps its
/// reader slot but pins no snapshot, so idle handles never hold back page reuse.
struct reader_pool {
    explicit reader_pool(std::size_t capacity) : cap(capacity) { idle.reserve(cap); }
    reader_pool(reader_pool const&) = delete;
    reader_pool& operator=(reader_pool const&) = delete;
    ~reader_pool() {
        for (MDB_txn* t : idle) ::mdb_txn_abort(t);
    }

    MDB_txn* take() noexcept {
        std::lock_guard lock(m);
        if (idle.empty()) return nullptr;
        MDB_txn* t = idle.back();
        idle.pop_back();
        return t;
    }

    void give(MDB_txn* t) noexcept {
        ::mdb_txn_reset(t);
        {
            std::lock_guard lock(m);
            if (idle.size() < cap) {
                idle.push_back(t);  // never reallocates: reserved to cap
                return;
            }
        }
        ::mdb_txn_abort(t);
    }

    std::mutex m;
    std::vector<MDB_txn*> idle;
    std::size_t const cap;
};

}  // namespace detail

env::env() noexcept = default;
env::env(env&& o) noexcept = default;
env::~env() { close(); }

env& env::operator=(env&& o) noexcept {
    if (this != &o) {
        close();
        env_ = std::move(o.env_);
        readers_ = std::move(o.readers_);
    }
    return *this;
}

void env::close() noexcept {
    readers_.reset();  // the pooled txns belong to env_: abort them first
    env_.reset();
}

result<void> env::open(std::string const& dir, std::uint64_t map_size, unsigned max_dbs, bool durable,
                       unsigned max_readers) noexcept {
    close();
    try {
        std::error_code fec;
        if (!std::filesystem::exists(dir, fec)) {
            if (fec) {
                log_failure("stat(data dir)", fec.message().c_str());
                return make_error_code(errc::lmdb);
            }
            std::filesystem::create_directories(dir, fec);
            if (fec) {
                log_failure("mkdir(data dir)", fec.message().c_str());
                return make_error_code(errc::lmdb);
            }
            if (::chmod(dir.c_str(), 0700) != 0) {
                log_failure("chmod(data dir)", std::generic_category().message(errno).c_str());
                return make_error_code(errc::lmdb);
            }
        }
        MDB_env* raw = nullptr;
        if (int rc = ::mdb_env_create(&raw); rc != 0) return lmdb_error(rc, "mdb_env_create");
        std::unique_ptr<MDB_env, env_closer> e(raw);  // mdb_env_close is required even when open fails
        if (int rc = ::mdb_env_set_mapsize(raw, map_size); rc != 0) return lmdb_error(rc, "mdb_env_set_mapsize");
        if (int rc = ::mdb_env_set_maxdbs(raw, max_dbs); rc != 0) return lmdb_error(rc, "mdb_env_set_maxdbs");
        if (int rc = ::mdb_env_set_maxreaders(raw, max_readers); rc != 0)
            return lmdb_error(rc, "mdb_env_set_maxreaders");
        if (static_cast<std::size_t>(::mdb_env_get_maxkeysize(raw)) < max_key_size) {
            log_failure("mdb_env_get_maxkeysize", "liblmdb built with a key size below 511");
            return make_error_code(errc::lmdb);
        }
        unsigned const flags = MDB_NOTLS | (durable ? 0u : static_cast<unsigned>(MDB_NOSYNC));
        if (int rc = ::mdb_env_open(raw, dir.c_str(), flags, 0600); rc != 0) return lmdb_error(rc, "mdb_env_open");
        auto pool = std::make_unique<detail::reader_pool>(std::clamp<std::size_t>(max_readers / 2, 1, 128));
        env_ = std::move(e);
        readers_ = std::move(pool);
        return {};
    } catch (std::bad_alloc const&) {
        return make_error_code(boost::system::errc::not_enough_memory);
    }
}

result<void> env::sync() noexcept {
    if (!env_) return make_error_code(errc::lmdb);
    if (int rc = ::mdb_env_sync(env_.get(), 1); rc != 0) return lmdb_error(rc, "mdb_env_sync");
    return {};
}

result<std::optional<std::string_view>> txn::get(MDB_dbi dbi, std::string_view key) const noexcept {
    if (!storable_key(key)) return std::optional<std::string_view>{};
    MDB_val k = to_val(key);
    MDB_val v{};
    int const rc = ::mdb_get(txn_, dbi, &k, &v);
    if (rc == MDB_NOTFOUND) return std::optional<std::string_view>{};
    if (rc != 0) return lmdb_error(rc, "mdb_get");
    return std::optional<std::string_view>{from_val(v)};
}

result<std::size_t> txn::count(MDB_dbi dbi) const noexcept {
    MDB_stat st{};
    if (int rc = ::mdb_stat(txn_, dbi, &st); rc != 0) return lmdb_error(rc, "mdb_stat");
    return static_cast<std::size_t>(st.ms_entries);
}

result<read_txn> read_txn::begin(env const& e) noexcept {
    if (!e) {
        log_failure("mdb_txn_begin(ro)", "environment not open");
        return make_error_code(errc::lmdb);
    }
    read_txn t;
    t.pool_ = e.readers_.get();
    if (MDB_txn* h = t.pool_->take(); h != nullptr) {
        if (int rc = ::mdb_txn_renew(h); rc != 0) {
            ::mdb_txn_abort(h);
            return lmdb_error(rc, "mdb_txn_renew");
        }
        t.txn_ = h;
        return t;
    }
    MDB_txn* h = nullptr;
    if (int rc = ::mdb_txn_begin(e.get(), nullptr, MDB_RDONLY, &h); rc != 0) return lmdb_error(rc, "mdb_txn_begin(ro)");
    t.txn_ = h;
    return t;
}

read_txn::~read_txn() {
    if (txn_ != nullptr && pool_ != nullptr) pool_->give(std::exchange(txn_, nullptr));
}

result<write_txn> write_txn::begin(env const& e) noexcept {
    if (!e) {
        log_failure("mdb_txn_begin(rw)", "environment not open");
        return make_error_code(errc::lmdb);
    }
    write_txn t;
    MDB_txn* h = nullptr;
    if (int rc = ::mdb_txn_begin(e.get(), nullptr, 0, &h); rc != 0) return lmdb_error(rc, "mdb_txn_begin(rw)");
    t.txn_ = h;
    return t;
}

result<void> write_txn::put(MDB_dbi dbi, std::string_view key, std::string_view val, unsigned flags) noexcept {
    if (!storable_key(key)) return make_error_code(errc::invalid_key);
    MDB_val k = to_val(key);
    MDB_val v = to_val(val);
    if (int rc = ::mdb_put(txn_, dbi, &k, &v, flags); rc != 0) return lmdb_error(rc, "mdb_put");
    if (sink_ != nullptr) sink_->on_put(dbi, key, val);
    return {};
}

result<void> write_txn::del(MDB_dbi dbi, std::string_view key) noexcept {
    if (!storable_key(key)) return {};  // cannot exist
    MDB_val k = to_val(key);
    int const rc = ::mdb_del(txn_, dbi, &k, nullptr);
    if (rc == MDB_NOTFOUND) return {};
    if (rc != 0) return lmdb_error(rc, "mdb_del");
    if (sink_ != nullptr) sink_->on_del(dbi, key);
    return {};
}

result<void> write_txn::clear(MDB_dbi dbi) noexcept {
    if (int rc = ::mdb_drop(txn_, dbi, 0); rc != 0) return lmdb_error(rc, "mdb_drop");
    return {};
}

result<void> write_txn::commit() && noexcept {
    // LMDB frees the handle even when commit fails: drop it first so the destructor cannot abort it again.
    MDB_txn* t = std::exchange(txn_, nullptr);
    if (t == nullptr) return make_error_code(errc::lmdb);
    if (int rc = ::mdb_txn_commit(t); rc != 0) return lmdb_error(rc, "mdb_txn_commit");
    return {};
}

result<MDB_dbi> write_txn::open_dbi(char const* name) noexcept {
    MDB_dbi dbi = 0;
    if (int rc = ::mdb_dbi_open(txn_, name, MDB_CREATE, &dbi); rc != 0) return lmdb_error(rc, "mdb_dbi_open");
    return dbi;
}

result<cursor> cursor::open(txn const& t, MDB_dbi dbi) noexcept {
    cursor c;
    if (int rc = ::mdb_cursor_open(t.handle(), dbi, &c.c_); rc != 0) {
        c.c_ = nullptr;
        return lmdb_error(rc, "mdb_cursor_open");
    }
    return c;
}

result<std::optional<cursor::entry>> cursor::move(MDB_cursor_op op) noexcept {
    MDB_val k{};
    MDB_val v{};
    int const rc = ::mdb_cursor_get(c_, &k, &v, op);
    if (rc == MDB_NOTFOUND) return std::optional<entry>{};
    if (rc != 0) return lmdb_error(rc, "mdb_cursor_get");
    return std::optional<entry>{entry{from_val(k), from_val(v)}};
}

result<std::optional<cursor::entry>> cursor::seek(std::string_view key) noexcept {
    if (key.empty()) return first();  // every key is >= ""; LMDB refuses empty keys
    bool const truncated = key.size() > max_key_size;
    std::string_view const probe = truncated ? key.substr(0, max_key_size) : key;
    MDB_val k = to_val(probe);
    MDB_val v{};
    int const rc = ::mdb_cursor_get(c_, &k, &v, MDB_SET_RANGE);
    if (rc == MDB_NOTFOUND) return std::optional<entry>{};
    if (rc != 0) return lmdb_error(rc, "mdb_cursor_get(MDB_SET_RANGE)");
    // A stored key is at most max_key_size bytes, so among keys >= the truncated probe only the probe itself
    // sorts below the full key.
    if (truncated && from_val(k) == probe) return next();
    return std::optional<entry>{entry{from_val(k), from_val(v)}};
}

result<std::optional<cursor::entry>> cursor::seek_before(std::string_view key) noexcept {
    auto at = seek(key);
    if (!at) return at.error();
    return *at ? prev() : last();
}

}  // namespace latchkey::store::lmdb
