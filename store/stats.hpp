#pragma once
// Size of the LMDB environment, for the operator's metrics (GET /metrics).
#include "store/error.hpp"
#include "store/lmdb.hpp"

#include <cstdint>

namespace latchkey::store {

struct map_usage {
    std::uint64_t map_size = 0;    ///< the configured map size (bytes)
    std::uint64_t used_bytes = 0;  ///< pages in use up to the last one written (bytes): what the data file holds
    std::uint64_t readers = 0;     ///< reader slots in use
};

/// mdb_env_info + mdb_env_stat. Cheap (no txn).
result<map_usage> usage(env const& e) noexcept;

}  // namespace latchkey::store
