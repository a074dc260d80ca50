#include "store/lmdb.hpp"

#include <cstdio>
#include <filesystem>
#include <sys/stat.h>

namespace latchkey::store {

namespace {
MDB_val to_val(std::string_view s) noexcept { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
std::string_view from_val(MDB_val const& v) noexcept { return {static_cast<char const*>(v.mv_data), v.mv_size}; }
}  // namespace

boost::system::error_code lmdb_error(int rc, char const* what) noexcept {
    switch (rc) {
        case MDB_KEYEXIST: return make_error_code(errc::key_exists);
        case MDB_NOTFOUND: return make_error_code(errc::not_found);
        case MDB_MAP_FULL: return make_error_code(errc::map_full);
        case MDB_CORRUPTED:
        case MDB_PAGE_NOTFOUND:
        case MDB_INVALID:
        case MDB_VERSION_MISMATCH:
            std::fprintf(stderr, "{\"level\":\"error\",\"event\":\"lmdb\",\"op\":\"%s\",\"error\":\"%s\"}\n", what,
                         ::mdb_strerror(rc));
            return make_error_code(errc::corrupted);
        default:
            std::fprintf(stderr, "{\"level\":\"error\",\"event\":\"lmdb\",\"op\":\"%s\",\"error\":\"%s\"}\n", what,
                         ::mdb_strerror(rc));
            return make_error_code(errc::lmdb);
    }
}

result<void> env::open(std::string const& dir, std::uint64_t map_size, unsigned max_dbs, bool durable,
                       unsigned max_readers) noexcept {
    std::error_code fec;
    std::filesystem::create_directories(dir, fec);
    if (fec) return make_error_code(errc::lmdb);
    ::chmod(dir.c_str(), 0700);
    MDB_env* raw = nullptr;
    if (int rc = ::mdb_env_create(&raw); rc != 0) return lmdb_error(rc, "mdb_env_create");
    std::unique_ptr<MDB_env, env_closer> e(raw);
    if (int rc = ::mdb_env_set_mapsize(raw, map_size); rc != 0) return lmdb_error(rc, "mdb_env_set_mapsize");
    if (int rc = ::mdb_env_set_maxdbs(raw, max_dbs); rc != 0) return lmdb_error(rc, "mdb_env_set_maxdbs");
    if (int rc = ::mdb_env_set_maxreaders(raw, max_readers); rc != 0) return lmdb_error(rc, "mdb_env_set_maxreaders");
    unsigned flags = MDB_NOTLS | (durable ? 0u : static_cast<unsigned>(MDB_NOSYNC));
    if (int rc = ::mdb_env_open(raw, dir.c_str(), flags, 0600); rc != 0) return lmdb_error(rc, "mdb_env_open");
    env_ = std::move(e);
    return {};
}

result<std::optional<std::string_view>> txn::get(MDB_dbi dbi, std::string_view key) const noexcept {
    MDB_val k = to_val(key);
    MDB_val v{};
    int rc = ::mdb_get(txn_, dbi, &k, &v);
    if (rc == MDB_NOTFOUND) return std::optional<std::string_view>{};
    if (rc != 0) return lmdb_error(rc, "mdb_get");
    return std::optional<std::string_view>{from_val(v)};
}

result<read_txn> read_txn::begin(env const& e) noexcept {
    read_txn t;
    if (int rc = ::mdb_txn_begin(e.get(), nullptr, MDB_RDONLY, &t.txn_); rc != 0) {
        t.txn_ = nullptr;
        return lmdb_error(rc, "mdb_txn_begin(ro)");
    }
    return t;
}

result<write_txn> write_txn::begin(env const& e) noexcept {
    write_txn t;
    if (int rc = ::mdb_txn_begin(e.get(), nullptr, 0, &t.txn_); rc != 0) {
        t.txn_ = nullptr;
        return lmdb_error(rc, "mdb_txn_begin(rw)");
    }
    return t;
}

result<void> write_txn::put(MDB_dbi dbi, std::string_view key, std::string_view val, unsigned flags) noexcept {
    MDB_val k = to_val(key);
    MDB_val v = to_val(val);
    if (int rc = ::mdb_put(txn_, dbi, &k, &v, flags); rc != 0) return lmdb_error(rc, "mdb_put");
    return {};
}

result<void> write_txn::del(MDB_dbi dbi, std::string_view key) noexcept {
    MDB_val k = to_val(key);
    int rc = ::mdb_del(txn_, dbi, &k, nullptr);
    if (rc == MDB_NOTFOUND) return {};
    if (rc != 0) return lmdb_error(rc, "mdb_del");
    return {};
}

result<void> write_txn::commit() && noexcept {
    MDB_txn* t = std::exchange(txn_, nullptr);
    if (int rc = ::mdb_txn_commit(t); rc != 0) return lmdb_error(rc, "mdb_txn_commit");
    return {};
}

result<MDB_dbi> write_txn::open_dbi(char const* name) noexcept {
    MDB_dbi dbi = 0;
    if (int rc = ::mdb_dbi_open(txn_, name, MDB_CREATE, &dbi); rc != 0) return lmdb_error(rc, "mdb_dbi_open");
    return dbi;
}

cursor::cursor(txn const& t, MDB_dbi dbi) noexcept {
    if (::mdb_cursor_open(t.handle(), dbi, &c_) != 0) c_ = nullptr;
}

std::optional<cursor::entry> cursor::move(MDB_cursor_op op, std::string_view key) noexcept {
    if (c_ == nullptr) return std::nullopt;
    MDB_val k = to_val(key);
    MDB_val v{};
    if (::mdb_cursor_get(c_, &k, &v, op) != 0) return std::nullopt;
    return entry{from_val(k), from_val(v)};
}

}  // namespace latchkey::store
