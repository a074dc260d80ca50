#pragma once
// Backend API helpers: typed reads of the JSON body and query with Clerk-shaped 422s, and reply
// builders.
#include "server/api/context.hpp"
#include "server/api/txn.hpp"
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

/// A body string that must be there and not be empty: 422 form_param_missing (param_name `key`) otherwise.
api_result<std::string> required_body_string(request_ctx const& ctx, std::string_view key, std::size_t max = 1024);
/// A body integer that, when given, lies in [min, max]: 422 form_param_value_invalid with `long_message` otherwise.
api_result<std::optional<std::int64_t>> body_int_in(request_ctx const& ctx, std::string_view key, std::int64_t min,
                                                    std::int64_t max, std::string_view long_message);
/// An email address from a JSON value (a body field or a bulk item; nullptr when absent), normalised: missing or
/// empty -> form_param_missing, not a string -> form_param_type_invalid, no address -> form_param_format_invalid,
/// all with param_name "email_address".
api_result<std::string> email_address_of(boost::json::value const* v);

/// The record a store lookup found: a store failure maps through store_error (`what`), no record is a 404.
template <class R>
api_result<R> found(store::result<std::optional<R>> r, std::string_view what) {
    if (!r) return store_error(r.error(), what);
    if (!*r) return not_found();
    return std::move(**r);
}

/// `f(write_txn&) -> api_result<json::value>` in one write txn (a 4xx aborts it), answered 200 with that JSON.
template <class F>
api_result<reply> write_json(app& a, char const* what, F&& f) {
    auto r =
        txn::write<boost::json::value>(a, what, txn::on_client_error::abort,
                                       [&](store::write_txn& w) -> api_result<boost::json::value> { return f(w); });
    if (!r) return r.error();
    return json_reply(*r);
}

/// `f(read_txn&) -> api_result<json::value>` in one read txn, answered 200 with that JSON.
template <class F>
api_result<reply> read_json(app& a, char const* what, F&& f) {
    auto r = txn::read<boost::json::value>(a, what,
                                           [&](store::read_txn& t) -> api_result<boost::json::value> { return f(t); });
    if (!r) return r.error();
    return json_reply(*r);
}

// Store errors map through api::store_error (server/api/error.hpp), shared with the FAPI.

}  // namespace latchkey::server::api::backend
