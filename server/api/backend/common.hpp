#pragma once
// Backend API helpers: typed reads of the JSON body and query with Clerk-shaped 422s, and reply
// builders.
#include "server/api/context.hpp"
#include "store/records.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <vector>

namespace latchkey::server::api::backend {

/// A body field: absent -> nullopt; present with the wrong type -> 422 form_param_type_invalid
/// (param_name).
api_result<std::optional<std::string>> body_string(request_ctx const& ctx, std::string_view key,
                                                   std::size_t max = 1024);
api_result<std::optional<bool>> body_bool(request_ctx const& ctx, std::string_view key);
api_result<std::optional<std::int64_t>> body_int(request_ctx const& ctx, std::string_view key);
/// A string or an array of strings.
api_result<std::optional<std::vector<std::string>>> body_strings(request_ctx const& ctx, std::string_view key);
/// A JSON object (metadata); also accepts a JSON-encoded string of an object. Max 8 KiB serialized.
api_result<std::optional<boost::json::object>> body_object(request_ctx const& ctx, std::string_view key);

/// Query limit/offset with Clerk's bounds (limit 1..500, default 10; offset >= 0).
api_result<std::pair<std::size_t, std::size_t>> paging(request_ctx const& ctx);

/// A 200 JSON reply.
reply json_reply(boost::json::value const& v);
/// {"object":<object>,"id":<id>,"deleted":true}
reply deleted_reply(std::string_view object, std::string_view id);

api_error not_found();

/// True when the query asks for the {"data":[...],"total_count":N} shape (`paginated=true`).
bool paginated(request_ctx const& ctx);

/// The status BAPI shows for a session: a stored active/pending session past its expiry (or
/// abandonment) is "expired".
std::string_view effective_status(store::session_record const& s, std::int64_t now_ms);

/// views::backend_session with the effective status.
boost::json::object session_view(store::session_record const& s, std::int64_t now_ms);

// Store errors map through api::store_error (server/api/error.hpp), shared with the FAPI.

}  // namespace latchkey::server::api::backend
