#pragma once
// The in-memory backend of the store seam (store/store.hpp): every family in ordered maps of decoded records,
// nothing on disk. Same transaction semantics as LMDB: a write txn works on its own copy of the state and
// publishes it whole on commit (or drops it on abort); a read txn holds the state published when it began, so
// it sees one consistent snapshot however many writes land meanwhile. One writer at a time.
// For the handler-level tests and the store contract suite; a copy per write makes it unfit for large data.
#include "store/store.hpp"

#include <cstdint>
#include <memory>
#include <mutex>

namespace latchkey::store::memory {

struct state;  // defined in store/memory/db.cpp

class db final : public store::database {
public:
    db();
    ~db() override;

    std::uint64_t version() const noexcept override;
    result<void> sync() noexcept override { return {}; }

protected:
    result<void> run_read(function_ref<result<void>(store::read_txn&)> body) const override;
    result<void> run_write(function_ref<result<void>(store::write_txn&)> body) override;

private:
    /// The published state and its version (read and swapped under mu_).
    std::shared_ptr<state const> snapshot(std::uint64_t& version) const;

    mutable std::mutex mu_;
    std::shared_ptr<state const> head_;
    std::uint64_t version_ = 0;
    std::mutex writer_;  ///< held for the whole of a write txn: one writer at a time
};

}  // namespace latchkey::store::memory
