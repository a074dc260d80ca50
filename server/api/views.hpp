#pragma once
// Records -> Clerk wire JSON. FAPI and BAPI share the object shapes (timestamps in ms); BAPI adds the
// private fields. Every array field is always present (the SDK parsers crash on missing arrays).
#include "server/api/context.hpp"
#include "store/records.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/object.hpp>
#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>

#include <climits>
#include <cstdint>
#include <optional>
#include <string_view>

namespace latchkey::server::api::views {

enum class audience { frontend, backend };

// Every view takes an optional storage_ptr: the DOM (and everything in it) is allocated there. Views that
// only live until they are serialized can use a `scratch` arena instead of the heap (see below).

/// {"status","strategy","attempts","expire_at",...} or null when the verification was never started.
boost::json::value verification(store::verification_record const& v, boost::json::storage_ptr sp = {});

boost::json::object email_address(store::user_record const& u, store::identification_record const& e,
                                  boost::json::storage_ptr sp = {});
boost::json::object phone_number(store::user_record const& u, store::identification_record const& p,
                                 boost::json::storage_ptr sp = {});

/// The image_url of a user without an image: the default avatar this instance's FAPI serves
/// (<frontend_api>/v1/avatar/default). Dispatch sets it around every handler (a default_image_scope), since
/// the views take no app; outside one it is the bare path "/v1/avatar/default".
std::string_view default_image_url() noexcept;

/// Makes `url` the calling thread's default_image_url() until destroyed. `url` must outlive the scope.
class default_image_scope {
public:
    explicit default_image_scope(std::string_view url) noexcept;
    ~default_image_scope();
    default_image_scope(default_image_scope const&) = delete;
    default_image_scope& operator=(default_image_scope const&) = delete;

private:
    std::string_view previous_;
};

/// A user's lockout at one instant: what Clerk's User object shows (locked, lockout_expires_in_seconds,
/// verification_attempts_remaining) and what the sign-in gate enforces (user_locked), computed in this one
/// place so the two never disagree. Locked = locked by the BAPI (`locked`), or by too many failed first-factor
/// attempts until `lockout_expires_at`. The values depend on the clock: they stay the same for every instant
/// in [valid_from_ms, valid_until_ms) and no other, which is how long a rendering of them may be reused.
struct lockout {
    bool locked = false;
    std::optional<std::int64_t> expires_in_seconds;  ///< rounded up; none when not locked or without an end
    std::int64_t attempts_remaining = 0;  ///< failed attempts left before the automatic lockout (0 while in it)
    std::int64_t valid_from_ms = INT64_MIN;
    std::int64_t valid_until_ms = INT64_MAX;
};
lockout lockout_of(store::user_record const& u, std::int64_t now_ms, std::uint32_t max_attempts);

/// The user object. Backend adds private_metadata (and the frontend omits it). `lock` is lockout_of(u, now).
boost::json::object user(store::user_record const& u, audience who, lockout const& lock,
                         boost::json::storage_ptr sp = {});

/// public_user_data for a session.
boost::json::object public_user_data(store::user_record const& u, boost::json::storage_ptr sp = {});

/// Parses a stored JSON-object text (metadata); "{}" on anything unexpected. The stored default "{}" is
/// answered without running the parser.
boost::json::value json_text(std::string_view text, boost::json::storage_ptr sp = {});

/// A bump allocator over a fixed buffer on the caller's stack, for DOMs built only to be serialized: the
/// dozens of small strings/objects of a user view cost a pointer bump each instead of a malloc/free pair,
/// and destroying the DOM frees nothing. Overflow goes to the heap. Every value allocated from it must be
/// gone before the scratch is.
class scratch {
public:
    scratch() = default;
    scratch(scratch const&) = delete;
    scratch& operator=(scratch const&) = delete;
    boost::json::storage_ptr storage() noexcept { return &mr_; }

private:
    alignas(16) unsigned char buf_[16 * 1024];
    boost::json::monotonic_resource mr_{buf_, sizeof buf_};
};

/// The BAPI session object.
boost::json::object backend_session(store::session_record const& s);
/// The BAPI client object (with BAPI sessions).
boost::json::object backend_client(store::client_record const& c, std::vector<store::session_record> const& sessions);

/// True when the session counts as signed in (active or pending) and is not past expiry.
bool session_live(store::session_record const& s, std::int64_t now_ms);

/// Clerk's DeletedObject, FAPI and BAPI alike: {"object":<object>,"id":<id>,"deleted":true}.
boost::json::object deleted_object(std::string_view object, std::string_view id);

}  // namespace latchkey::server::api::views
