#pragma once
// What a backend's txn holds (included only by backends: store/lmdb/db.cpp, store/memory/db.cpp): one repository
// per family, bound to what one txn sees. The list of families and how each is built is written here once; a
// backend hands its implementations to `repositories` as template arguments:
//   Bound               what its repositories share: the txn's state (an aggregate, built from the txn's arguments)
//   Users, Sessions, Clients, JwtTemplates, Meta, Jobs, Waitlist
//                       the families with rules of their own, each built from (Bound const&) (bound_repo)
//   ById<Record>        a family found by id only (its table follows from Record), built from (Bound const&)
//   Kv                  the ordered table of a key-value family, built from (Bound const&, kv_table)
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

/// A backend's repository of a family, bound to what one txn sees.
template <class Repo, class Bound>
class bound_repo : public Repo {
public:
    explicit bound_repo(Bound const& b) noexcept : b_(b) {}

protected:
    ~bound_repo() = default;
    Bound const& b_;
};

/// Every repository of one txn of a backend, bound to it (txn_of<repositories<...>> hands them out).
template <class Bound, class Users, class Sessions, class Clients, template <class> class ById, class JwtTemplates,
          class Meta, class Jobs, class Waitlist, class Kv>
struct repositories {
    template <class... A>
    explicit repositories(A&&... a) noexcept
        : b{std::forward<A>(a)...}, users(b), sessions(b), clients(b), sign_ins(b), sign_ups(b), dev_browsers(b),
          jwt_templates(b), meta(b), jobs(b), waitlist(b), organizations(b, kv_table::organizations), images(b),
          tickets(b, kv_table::tickets), oauth(b, kv_table::oauth), console(b, kv_table::console) {}
    repositories(repositories const&) = delete;
    repositories& operator=(repositories const&) = delete;

    Bound b;
    Users users;
    Sessions sessions;
    Clients clients;
    ById<sign_in_record> sign_ins;
    ById<sign_up_record> sign_ups;
    ById<dev_browser_record> dev_browsers;
    JwtTemplates jwt_templates;
    Meta meta;
    Jobs jobs;
    Waitlist waitlist;
    kv_backed<organizations_repo, Kv> organizations;
    ById<image_record> images;
    kv_backed<tickets_repo, Kv> tickets;
    kv_backed<oauth_repo, Kv> oauth;
    kv_backed<console_repo, Kv> console;
};

}  // namespace latchkey::store
