#pragma once
// Shared by the sign-in and sign-up flows: finding the attempt a request names.
#include "server/api/frontend/common.hpp"

#include <string_view>
#include <utility>

namespace latchkey::server::api::frontend {

/// The attempt record named by the route parameter `param` together with the request's client; 404
/// unless the attempt exists and belongs to this browser's client (an attempt id alone grants nothing).
/// `get(t, id)` is the store getter for the record type (get_sign_in, get_sign_up).
template <class Getter>
auto load_owned_attempt(app& a, request_ctx const& ctx, store::read_txn const& t, std::string_view param, Getter get,
                        char const* what)
    -> api_result<std::pair<store::client_record, typename std::decay_t<decltype(*get(t, param))>::value_type>> {
    auto c = current_client(a, ctx, t);
    if (!c) return make_error(code::resource_not_found);
    auto s = get(t, ctx.params.get(param));
    if (!s) return store_failure(s.error(), what);
    if (!*s || (*s)->client_id != c->id) return make_error(code::resource_not_found);
    return std::pair{std::move(*c), std::move(**s)};
}

}  // namespace latchkey::server::api::frontend
