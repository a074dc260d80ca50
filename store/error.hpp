#pragma once
// store::errc and its category. Store functions return result<T>; absence in lookups is an empty optional,
// never an error.
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <new>
#include <type_traits>

namespace latchkey::store {

enum class errc {
    not_found = 1,  ///< a record an operation requires is absent (absence in lookups is an empty optional)
    key_exists,     ///< a unique key or index entry is taken
    map_full,       ///< the LMDB map is full (raise map_size)
    corrupted,      ///< a record failed to decode or LMDB reported corruption
    lmdb,           ///< any other LMDB failure (logged with mdb_strerror)
    invalid_key,    ///< a key to write is empty or longer than max_key_size (511 bytes)
    aborted,        ///< the caller chose to abort the write transaction (nothing it wrote lands)
    // ---- shared store (issue 16, store/pg) ----
    unavailable,  ///< the shared store (PostgreSQL) cannot be reached: the write did not land anywhere
    conflict,     ///< another node committed first and retries ran out: the write did not land anywhere
};

/// The category of store::errc (name "latchkey.store").
boost::system::error_category const& error_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

template <class T>
using result = boost::system::result<T>;

/// Runs f, turning an allocation failure into an error: store functions are noexcept, and every backend and the
/// queue wrap their bodies in this one guard.
template <class F>
auto guarded(F&& f) noexcept -> decltype(f()) {
    try {
        return f();
    } catch (std::bad_alloc const&) {
        return make_error_code(boost::system::errc::not_enough_memory);
    }
}

}  // namespace latchkey::store

template <>
struct boost::system::is_error_code_enum<latchkey::store::errc> : std::true_type {};
