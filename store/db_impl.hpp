#pragma once
// Template bodies for db::with_read / db::with_write (included at the end of store/db.hpp).

namespace latchkey::store {

template <class F>
auto db::with_read(F&& f) const -> decltype(f(std::declval<read_txn&>())) {
    using R = decltype(f(std::declval<read_txn&>()));
    auto t = read_txn::begin(env_);
    if (!t) return R(boost::system::in_place_error, t.error());
    return f(*t);
}

template <class F>
auto db::with_write(F&& f) -> decltype(f(std::declval<write_txn&>())) {
    using R = decltype(f(std::declval<write_txn&>()));
    auto t = write_txn::begin(env_);
    if (!t) return R(boost::system::in_place_error, t.error());
    auto r = f(*t);
    if (!r) return r;  // the txn aborts in its destructor
    if (auto c = std::move(*t).commit(); !c) return R(boost::system::in_place_error, c.error());
    return r;
}

}  // namespace latchkey::store
