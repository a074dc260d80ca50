#pragma once
// The ordered key-value seam the key-value families (organizations, tickets, oauth, console) are written over,
// once and backend-neutral: each backend lends every such family one table (`org_kv`: LMDB a dbi, memory a map),
// and each family's view/repo pair holds the table it reads (kv_reader) and the one it writes (kv_writer).
#include "store/error.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace latchkey::store {

/// The ordered table a backend lends a key-value family. Keys are 1..511 bytes.
class org_kv {
public:
    virtual result<std::optional<std::string>> get(std::string_view key) const noexcept = 0;
    /// Calls f(key, value) for each entry whose key starts with `prefix`, in key order, until f returns false.
    virtual result<void> scan(std::string_view prefix,
                              std::function<bool(std::string_view, std::string_view)> const& f) const noexcept = 0;
    /// `unique`: errc::key_exists when the key is present.
    virtual result<void> put(std::string_view key, std::string_view value, bool unique) noexcept = 0;
    /// Deleting a missing key is not an error.
    virtual result<void> del(std::string_view key) noexcept = 0;

protected:
    ~org_kv() = default;
};

/// The read half of a key-value family (`class <family>_view : public kv_reader`): the table it reads.
class kv_reader {
public:
    explicit kv_reader(org_kv const* kv) noexcept : kv_(kv) {}

protected:
    ~kv_reader() = default;
    org_kv const* kv_;
};

/// The write half of a key-value family over its read half (`class <family>_repo : public
/// kv_writer<<family>_view>`): the table it writes (the same table as the view's, writable).
template <class View>
class kv_writer : public View {
public:
    kv_writer(org_kv const* r, org_kv* w) noexcept : View(r), w_(w) {}

protected:
    ~kv_writer() = default;
    org_kv* w_;
};

}  // namespace latchkey::store
