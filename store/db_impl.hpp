#pragma once
// Template bodies for db::with_read / db::with_write (included at the end of store/db.hpp).

namespace latchkey::store {

template <class F>
auto db::with_read(F&& f) const -> decltype(f(std::declval<read_txn&>())) {
    auto t = read_txn::begin(env_);
    if (!t) return t.error();
    return f(*t);  // the txn returns to the env's pool when t goes out of scope
}

template <class F>
auto db::with_write(F&& f) -> decltype(f(std::declval<write_txn&>())) {
    auto t = write_txn::begin(env_);
    if (!t) return t.error();
    auto r = f(*t);
    if (!r) return r;  // the txn aborts in its destructor: nothing f wrote becomes visible
    if (auto c = std::move(*t).commit(); !c) return c.error();
    return r;
}

}  // namespace latchkey::store
