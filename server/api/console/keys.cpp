// Signing-key rotation while serving (issue 23): latchkey BAPI endpoints (secret key, or a console session of an
// admin) that list, rotate and retire the instance's RS256 keys. A rotation writes the new key into
// <data_dir>/keys exactly as `latchkey keys --rotate` does, a retirement removes the file as `latchkey keys
// --retire` does; then the keyring is reloaded from the files and published (crypto/live_keyring.hpp), so the
// JWKS and every later mint see it at once, and tokens minted before keep verifying until their key is retired.
// Cached session tokens are dropped, so the next mint is signed by the new key.
//
// With the shared PostgreSQL store every node holds its own copy of keys/ and the others would not see a change:
// both actions are refused there (signing_key_rotation_unsupported).
#include "crypto/live_keyring.hpp"
#include "server/api/backend/common.hpp"
#include "server/api/console/console.hpp"
#include "server/api/console/handlers.hpp"
#include "server/log.hpp"

#include <mutex>
#include <optional>
#include <stdexcept>

namespace latchkey::server::api::console {

namespace json = boost::json;

namespace {

/// One rotation or retirement at a time (the file numbering and the reload must not interleave).
std::mutex rotation_mutex;

json::object key_json(crypto::signing_key const& k, bool active) {
    return {{"object", "signing_key"}, {"kid", k.kid()}, {"alg", "RS256"}, {"bits", k.bits()}, {"active", active}};
}

/// Reloads the key files and publishes them; drops the cached tokens signed by the previous keyring's key.
void reload(app& a) {
    a.keys.publish(load_signing_keys(a.cfg.data_dir, a.inst.id));
    a.tokens.clear();
}

std::optional<api_error> refused_when_shared(app const& a) {
    if (!a.cfg.postgres_url.empty()) return make_error(code::signing_key_rotation_unsupported);
    return std::nullopt;
}

}  // namespace

json::array signing_keys_json(crypto::keyring const& ring) {
    json::array keys;
    bool first = true;  // published() lists the active key first
    for (auto const* k : ring.published()) {
        keys.push_back(key_json(*k, first));
        first = false;
    }
    return keys;
}

api_result<reply> list_signing_keys(app& a, request_ctx&) {
    json::array data = signing_keys_json(a.keys.current());
    auto const n = data.size();
    return backend::json_reply(json::object{{"data", std::move(data)}, {"total_count", n}});
}

api_result<reply> rotate_signing_key(app& a, request_ctx&) {
    if (auto e = refused_when_shared(a)) return *e;
    std::lock_guard lock(rotation_mutex);
    try {
        std::string const kid = server::rotate_signing_key(a.cfg.data_dir);
        reload(a);
        log::info("signing_key_rotated", {{"kid", kid}});
        auto const* k = a.keys.find(kid);
        if (k == nullptr) throw std::runtime_error("the new key did not load");
        return backend::json_reply(key_json(*k, &a.keys.active() == k));
    } catch (std::exception const& e) {
        log::error("signing_key_rotation_failed", {{"error", e.what()}});
        return make_error(code::internal_clerk_error);
    }
}

api_result<reply> retire_signing_key(app& a, request_ctx& ctx) {
    if (auto e = refused_when_shared(a)) return *e;
    auto const kid = ctx.params.get("kid");
    std::lock_guard lock(rotation_mutex);
    auto const& ring = a.keys.current();
    if (ring.find(kid) == nullptr) return backend::not_found();
    if (ring.active().kid() == kid)
        return param_error(code::form_param_value_invalid, "kid",
                           "The active signing key cannot be retired: rotate first, then retire it.");
    try {
        server::retire_signing_key(a.cfg.data_dir, std::string(kid));
        reload(a);
        log::info("signing_key_retired", {{"kid", kid}});
    } catch (std::exception const& e) {
        log::error("signing_key_retirement_failed", {{"error", e.what()}});
        return make_error(code::internal_clerk_error);
    }
    return backend::deleted_reply("signing_key", kid);
}

}  // namespace latchkey::server::api::console
