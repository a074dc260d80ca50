#include "store/stats.hpp"

namespace latchkey::store {

result<map_usage> usage(env const& e) noexcept {
    MDB_envinfo info{};
    if (int rc = ::mdb_env_info(e.get(), &info); rc != 0) return lmdb_error(rc, "mdb_env_info");
    MDB_stat st{};
    if (int rc = ::mdb_env_stat(e.get(), &st); rc != 0) return lmdb_error(rc, "mdb_env_stat");
    map_usage u;
    u.map_size = info.me_mapsize;
    u.used_bytes = (static_cast<std::uint64_t>(info.me_last_pgno) + 1) * st.ms_psize;
    u.readers = info.me_numreaders;
    return u;
}

}  // namespace latchkey::store
