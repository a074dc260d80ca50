#pragma once
// A keyring the server can replace while it runs (signing-key rotation from the BAPI / console, issue 23).
//
// Readers take the current snapshot with one atomic load — no lock, no allocation, no reference count — so the
// mint path costs what it did with a fixed keyring. A writer builds a whole new keyring and publishes it; the
// snapshots it replaces are kept until the live_keyring is destroyed, so a reference taken from any snapshot
// (a key a token is being signed or verified with) never dangles. Rotations are rare operator actions: the
// retained snapshots are a few KB each.
#include "crypto/keys.hpp"

#include <atomic>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::crypto {

class live_keyring {
public:
    /// An empty keyring (no active key) until the first publish.
    live_keyring();
    explicit live_keyring(keyring initial);
    live_keyring(live_keyring&&) noexcept = default;
    live_keyring& operator=(live_keyring&&) noexcept = default;
    ~live_keyring();

    /// The keyring in force. Valid (and unchanged) for the life of this object, even after a later publish.
    keyring const& current() const noexcept { return *state_->current.load(std::memory_order_acquire); }

    /// Makes `next` the keyring in force for every later current(). Thread-safe.
    void publish(keyring next);

    /// How many keyrings were published (1 after the start, +1 per rotation or retirement).
    std::size_t generation() const;

    // The keyring's read members on the current snapshot (the mint path calls active()).
    signing_key const& active() const { return current().active(); }
    signing_key const* find(std::string_view kid) const noexcept { return current().find(kid); }
    std::vector<signing_key const*> published() const { return current().published(); }

private:
    struct state {
        mutable std::mutex mu;
        std::deque<keyring> all;  ///< every snapshot published; a deque never relocates its elements
        std::atomic<keyring const*> current{nullptr};
    };
    std::unique_ptr<state> state_;
};

/// jwks_json of the current snapshot.
std::string jwks_json(live_keyring const& ring);

}  // namespace latchkey::crypto
