#pragma once
// THE API-aware transaction helpers: a handler's store work runs through these, so store errors map to API
// errors in one place (api::store_error) and a write transaction commits or aborts by one rule.
#include "server/api/app.hpp"
#include "server/api/error.hpp"
#include "store/store.hpp"

#include <optional>
#include <type_traits>
#include <string_view>
#include <utility>

namespace latchkey::server::api::txn {

/// What a client error (4xx) from the body of a write does to what it wrote.
enum class on_client_error {
    abort,   ///< nothing lands (a half-applied change never does)
    commit,  ///< the state the step wrote lands with its error (attempt counters, lockouts, burned codes)
};

/// Runs `f(read_txn&) -> api_result<T>` in a read txn.
template <class T, class F>
api_result<T> read(app& a, std::string_view what, F&& f) {
    auto r = a.db.with_read([&](store::read_txn& t) -> store::result<api_result<T>> { return f(t); });
    if (!r) return store_error(r.error(), what);
    return std::move(*r);
}

/// Runs `f(write_txn&)` in one write txn; f returns api_result<T>, or store::result<api_result<T>> when it
/// passes store errors up as they are. A success commits; a store error or a server error (5xx) aborts; a client
/// error commits or aborts per `keep`. Never co_await inside f (one writer at a time).
template <class T, class F>
api_result<T> write(app& a, std::string_view what, on_client_error keep, F&& f) {
    using returned = std::invoke_result_t<F&, store::write_txn&>;
    std::optional<api_error> aborted;
    auto r = a.db.with_write([&](store::write_txn& w) -> store::result<api_result<T>> {
        store::result<api_result<T>> v = [&]() -> store::result<api_result<T>> {
            if constexpr (std::is_same_v<returned, store::result<api_result<T>>>) return f(w);
            else return api_result<T>(f(w));
        }();
        if (v && !*v &&
            (keep == on_client_error::abort || v->error().status >= http::status::internal_server_error)) {
            aborted = v->error();
            return store::make_error_code(store::errc::aborted);
        }
        return v;
    });
    if (aborted) return std::move(*aborted);
    if (!r) return store_error(r.error(), what);
    return std::move(*r);
}

}  // namespace latchkey::server::api::txn
