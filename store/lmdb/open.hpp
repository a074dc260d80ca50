#pragma once
// Opening the LMDB backend: what the composition root (server/run.cpp) and tools need, without <lmdb.h>.
#include "store/error.hpp"
#include "store/store.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace latchkey::store::lmdb {

struct options {
    std::string dir;                      ///< created (mode 0700) if missing
    std::uint64_t map_size = 1ull << 34;  ///< 16 GiB sparse
    bool durable = true;                  ///< false = MDB_NOSYNC (opt-in, documented)
    unsigned max_readers = 1024;
};

/// Opens (creating if missing) the LMDB store in o.dir: every table, and the one-time migrations.
result<std::unique_ptr<store::database>> open(options const& o) noexcept;

}  // namespace latchkey::store::lmdb
