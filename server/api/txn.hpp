#pragma once
// THE API-aware transaction helpers: a handler's store work runs through these, so store errors map to API
// errors in one place (api::store_error) and a write transaction commits or aborts by one rule. Side effects that
// must not run inside a txn (token cache evictions, message deliveries) go through store::write_txn::after_commit:
// they run once the write has landed, never for one that aborted.
#include "server/api/app.hpp"
#include "server/api/error.hpp"
#include "store/store.hpp"

#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

namespace latchkey::server::api::txn {

/// What a client error (4xx) from the body of a write does to what it wrote.
enum class on_client_error {
    abort,   ///< nothing lands (a half-applied change never does)
    commit,  ///< the state the step wrote lands with its error (attempt counters, lockouts, burned codes)
};

namespace detail {

template <class R>
struct is_store_result : std::false_type {};
template <class U>
struct is_store_result<store::result<U>> : std::true_type {};

/// The T of api_result<T> that f's answer R stands for (see lift).
template <class R>
struct value_of {
    using type = void;
};
template <class U>
struct value_of<api_result<U>> {
    using type = U;
};
template <class U>
struct value_of<store::result<U>> {
    using type = U;
};
template <class U>
struct value_of<store::result<api_result<U>>> {
    using type = U;
};

/// "Deduce T from f" (the default of read/write's T).
struct deduced {};

template <class T, class F, class Txn>
using value_t = std::conditional_t<std::is_same_v<T, deduced>,
                                   typename value_of<std::remove_cvref_t<std::invoke_result_t<F&, Txn&>>>::type, T>;

/// f's answer as store::result<api_result<T>>, whether f returns api_result<T>, store::result<api_result<T>>
/// (store errors passed up as they are) or store::result<T> (a plain store operation).
template <class T, class R>
store::result<api_result<T>> lift(R&& r) {
    using D = std::remove_cvref_t<R>;
    if constexpr (std::is_same_v<D, store::result<api_result<T>>>) {
        return std::forward<R>(r);
    } else if constexpr (is_store_result<D>::value) {
        if (!r) return r.error();
        if constexpr (std::is_void_v<T>)
            return api_result<T>();
        else
            return api_result<T>(std::move(*r));
    } else {
        return api_result<T>(std::forward<R>(r));
    }
}

/// The param_name of a key_exists: given, or computed after the txn (from what f recorded, e.g. which unique
/// field conflicted) when it is a callable.
template <class P>
std::string_view param_of(P const& p) {
    if constexpr (std::is_invocable_v<P const&>)
        return p();
    else
        return std::string_view(p);
}

}  // namespace detail

/// Runs `f(read_txn&)` in a read txn; f returns api_result<T>, store::result<api_result<T>> or store::result<T>
/// (T is deduced from it unless given). A
/// store error becomes store_error(ec, what, param) (param: a string, or a callable returning one, asked after
/// the txn).
template <class T0 = detail::deduced, class F, class P = std::string_view,
          class T = detail::value_t<T0, F, store::read_txn>>
api_result<T> read(app& a, std::string_view what, F&& f, P const& param = {}) {
    auto r = a.db.with_read([&](store::read_txn& t) -> store::result<api_result<T>> { return detail::lift<T>(f(t)); });
    if (!r) return store_error(r.error(), what, detail::param_of(param));
    return std::move(*r);
}

/// Runs `f(write_txn&)` in one write txn; f returns what read's does. A success commits; a store error or a server
/// error (5xx) aborts; a client error commits or aborts per `keep`. A store error (of f or of the commit) becomes
/// store_error(ec, what, param). Never co_await inside f (one writer at a time).
template <class T0 = detail::deduced, class F, class P = std::string_view,
          class T = detail::value_t<T0, F, store::write_txn>>
api_result<T> write(app& a, std::string_view what, on_client_error keep, F&& f, P const& param = {}) {
    std::optional<api_error> aborted;
    auto r = a.db.with_write([&](store::write_txn& w) -> store::result<api_result<T>> {
        store::result<api_result<T>> v = detail::lift<T>(f(w));
        if (v && !*v && (keep == on_client_error::abort || v->error().status >= http::status::internal_server_error)) {
            aborted = v->error();
            return store::make_error_code(store::errc::aborted);
        }
        return v;
    });
    if (aborted) return std::move(*aborted);
    if (!r) return store_error(r.error(), what, detail::param_of(param));
    return std::move(*r);
}

}  // namespace latchkey::server::api::txn
