#include "crypto/live_keyring.hpp"

#include <utility>

namespace latchkey::crypto {

live_keyring::live_keyring() : live_keyring(keyring{}) {}

live_keyring::live_keyring(keyring initial) : state_(std::make_unique<state>()) {
    state_->all.push_back(std::move(initial));
    state_->current.store(&state_->all.back(), std::memory_order_release);
}

live_keyring::~live_keyring() = default;

void live_keyring::publish(keyring next) {
    std::lock_guard lock(state_->mu);
    state_->all.push_back(std::move(next));
    state_->current.store(&state_->all.back(), std::memory_order_release);
}

std::size_t live_keyring::generation() const {
    std::lock_guard lock(state_->mu);
    return state_->all.size();
}

std::string jwks_json(live_keyring const& ring) { return jwks_json(ring.current()); }

}  // namespace latchkey::crypto
