#pragma once
// What a backend's txn holds (included only by backends: store/lmdb/db.cpp, store/memory/db.cpp): one repository
// per family, bound to what one txn sees. The list of families and how each is built is written here once; a
// backend names its implementations in a traits struct B:
//   B::bound            what its repositories share: the txn's state (an aggregate, built from the txn's arguments)
//   B::users, B::sessions, B::clients, B::jwt_templates, B::meta, B::jobs, B::waitlist
//                       the families with their own rules, each built from (bound const&)
//   B::by_id<Record>    a family found by id only (its table follows from Record), built from (bound const&)
//   B::kv               the ordered table of a key-value family, built from (bound const&, kv_table)
// Adding a family: a member here (and its accessors in store.hpp's txn_of), and its implementation in each backend.
#include "store/kv_table.hpp"
#include "store/store.hpp"

#include <utility>

namespace latchkey::store {

/// The key-value families (store/kv_table.hpp): each has one ordered table of its own in every backend.
enum class kv_table { organizations, tickets, oauth, console };

/// The table a kv_backed family is written over (a base of its own, so it is built before the repository that
/// holds its address).
template <class Kv>
struct kv_holder {
    Kv table;
};

/// A key-value family's repository with the backend's table it is written over.
template <class Repo, class Kv>
class kv_backed final : private kv_holder<Kv>, public Repo {
public:
    template <class Bound>
    kv_backed(Bound const& b, kv_table which) noexcept
        : kv_holder<Kv>{Kv(b, which)}, Repo(&this->table, &this->table) {}
};

/// Every repository of one txn of backend B, bound to it (txn_of<repositories<B>> hands them out).
template <class B>
struct repositories {
    template <class... A>
    explicit repositories(A&&... a) noexcept
        : b{std::forward<A>(a)...}, users(b), sessions(b), clients(b), sign_ins(b), sign_ups(b), dev_browsers(b),
          jwt_templates(b), meta(b), jobs(b), waitlist(b), organizations(b, kv_table::organizations), images(b),
          tickets(b, kv_table::tickets), oauth(b, kv_table::oauth), console(b, kv_table::console) {}
    repositories(repositories const&) = delete;
    repositories& operator=(repositories const&) = delete;

    typename B::bound b;
    typename B::users users;
    typename B::sessions sessions;
    typename B::clients clients;
    typename B::template by_id<sign_in_record> sign_ins;
    typename B::template by_id<sign_up_record> sign_ups;
    typename B::template by_id<dev_browser_record> dev_browsers;
    typename B::jwt_templates jwt_templates;
    typename B::meta meta;
    typename B::jobs jobs;
    typename B::waitlist waitlist;
    kv_backed<organizations_repo, typename B::kv> organizations;
    typename B::template by_id<image_record> images;
    kv_backed<tickets_repo, typename B::kv> tickets;
    kv_backed<oauth_repo, typename B::kv> oauth;
    kv_backed<console_repo, typename B::kv> console;
};

}  // namespace latchkey::store
