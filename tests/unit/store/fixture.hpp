#pragma once
// Test support for the store: a self-deleting temp dir, a fixture with a fresh store of either backend, printing
// for our enums, and generic helpers over described records (fill every member, compare member by member).
#include "store/codec.hpp"
#include "store/lmdb/db.hpp"
#include "store/memory/db.hpp"
#include "store/records.hpp"
#include "store/store.hpp"
#include "tests/common/sample_records.hpp"

#include <boost/describe/members.hpp>
#include <boost/mp11/algorithm.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

// Lookups return optional ids; BOOST_TEST compares them with strings without printing them.
BOOST_TEST_DONT_PRINT_LOG_VALUE(std::optional<std::string>)

namespace latchkey::store {

inline std::ostream& operator<<(std::ostream& os, unique_field f) {
    switch (f) {
        case unique_field::none:
            return os << "none";
        case unique_field::email_address:
            return os << "email_address";
        case unique_field::phone_number:
            return os << "phone_number";
        case unique_field::username:
            return os << "username";
        case unique_field::external_id:
            return os << "external_id";
        case unique_field::jwt_template_name:
            return os << "jwt_template_name";
    }
    return os << "unique_field(" << static_cast<int>(f) << ")";
}

}  // namespace latchkey::store

namespace latchkey::store::test {

/// A fresh directory under the system temp dir, removed with everything in it on destruction.
struct tmp_dir {
    std::filesystem::path path;

    tmp_dir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "latchkey-store-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path = tmpl;
    }
    tmp_dir(tmp_dir const&) = delete;
    tmp_dir& operator=(tmp_dir const&) = delete;
    ~tmp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    /// A path inside the dir (not created).
    std::string sub(std::string const& name) const { return (path / name).string(); }
};

/// An LMDB store (real files) in `dir`.
inline std::unique_ptr<lmdb::db> open_store(std::string const& dir, std::uint64_t map_size = 64ull << 20,
                                            bool durable = true) {
    lmdb::options o;
    o.dir = dir;
    o.map_size = map_size;
    o.durable = durable;
    auto r = lmdb::db::open(o);
    if (!r) throw std::runtime_error("lmdb::db::open: " + r.error().message());
    return std::move(*r);
}

/// The backends the contract suite runs against.
struct lmdb_backend {
    static std::unique_ptr<database> open(tmp_dir const& dir) { return open_store(dir.sub("db")); }
};
struct memory_backend {
    static std::unique_ptr<database> open(tmp_dir const&) { return std::make_unique<memory::db>(); }
};

/// A fresh store of `Backend` (in its own temp dir, removed afterwards).
template <class Backend>
struct basic_store_fixture {
    tmp_dir dir;
    std::unique_ptr<database> owned = Backend::open(dir);
    database& store = *owned;

    template <class F>
    auto read(F&& f) {
        return store.with_read([&](read_txn& t) { return f(t); });
    }
    template <class F>
    auto write(F&& f) {
        return store.with_write([&](write_txn& w) { return f(w); });
    }
};

/// Writes raw bytes under `key` in the LMDB table `table`, bypassing the codec and the indexes (corruption and
/// old-format tests). `d` must be an LMDB store.
inline result<void> raw_put(database& d, char const* table, std::string_view key, std::string_view val) {
    auto w = lmdb::write_txn::begin(dynamic_cast<lmdb::db&>(d).environment());
    if (!w) return w.error();
    auto dbi = w->open_dbi(table);
    if (!dbi) return dbi.error();
    if (auto r = w->put(*dbi, key, val); !r) return r;
    return std::move(*w).commit();
}

/// Deletes `key` from the LMDB table `table` (see raw_put).
inline result<void> raw_del(database& d, char const* table, std::string_view key) {
    auto w = lmdb::write_txn::begin(dynamic_cast<lmdb::db&>(d).environment());
    if (!w) return w.error();
    auto dbi = w->open_dbi(table);
    if (!dbi) return dbi.error();
    if (auto r = w->del(*dbi, key); !r) return r;
    return std::move(*w).commit();
}

// ---- generic helpers over described records ----

template <class T>
struct is_vector : std::false_type {};
template <class T>
struct is_vector<std::vector<T>> : std::true_type {};

template <class T>
using members = boost::describe::describe_members<T, boost::describe::mod_public>;

/// Sets every member of v (recursively) to a value different from its default. Strings include NUL, 0xff and,
/// for some, more than 127 bytes (a two-byte length); integers hit the extremes of their type.
template <class T>
void fill(T& v, T const& def, int& seed) {
    ++seed;
    if constexpr (std::is_same_v<T, std::string>) {
        v = std::string(seed % 4 == 0 ? 200 : 3, static_cast<char>('a' + seed % 26)) + std::string("\0\xff", 2) +
            std::to_string(seed);
    } else if constexpr (std::is_same_v<T, bool>) {
        v = !def;
    } else if constexpr (std::is_integral_v<T>) {
        switch (seed % 3) {
            case 0:
                v = std::numeric_limits<T>::min();
                break;
            case 1:
                v = std::numeric_limits<T>::max();
                break;
            default:
                v = static_cast<T>(-(seed * 1000 + 7));
                break;
        }
        if (v == def) v = static_cast<T>(def + 1);
    } else if constexpr (is_vector<T>::value) {
        v.clear();
        v.emplace_back();  // a default element survives too
        for (int i = 0; i < 2; ++i) {
            typename T::value_type e{};
            fill(e, typename T::value_type{}, seed);
            v.push_back(std::move(e));
        }
    } else {
        boost::mp11::mp_for_each<members<T>>([&](auto d) { fill(v.*d.pointer, def.*d.pointer, seed); });
    }
}

/// A record of type T with every member set to a non-default value.
template <class T>
T filled(int seed = 0) {
    T v{};
    fill(v, T{}, seed);
    return v;
}

/// Compares member by member; on a difference, `where` names the path ("identifications[1].verification.status").
template <class T>
bool same(T const& a, T const& b, std::string& where) {
    if constexpr (std::is_same_v<T, std::string> || std::is_arithmetic_v<T>) {
        return a == b;
    } else if constexpr (is_vector<T>::value) {
        if (a.size() != b.size()) {
            where += ".size()";
            return false;
        }
        for (std::size_t i = 0; i < a.size(); ++i) {
            std::string sub;
            if (!same(a[i], b[i], sub)) {
                where += "[" + std::to_string(i) + "]" + sub;
                return false;
            }
        }
        return true;
    } else {
        bool ok = true;
        boost::mp11::mp_for_each<members<T>>([&](auto d) {
            if (!ok) return;
            std::string sub;
            if (!same(a.*d.pointer, b.*d.pointer, sub)) {
                where += std::string(".") + d.name + sub;
                ok = false;
            }
        });
        return ok;
    }
}

/// BOOST_TEST-friendly comparison of two records.
template <class T>
boost::test_tools::predicate_result records_equal(T const& a, T const& b) {
    std::string where;
    if (same(a, b, where)) return true;
    boost::test_tools::predicate_result r(false);
    r.message() << "records differ at " << (where.empty() ? "<value>" : where);
    return r;
}

// ---- record builders ----

/// An identification of `kind` (tests/common/sample_records.hpp): "verified" owns its value (uniquely indexed);
/// "" or "unverified" makes a pending claim (store/store.hpp, users_repo::put).
using latchkey::test::identification;

/// A verified (owning, so uniquely indexed) email identification, or a pending claim by `status`.
inline identification_record email(std::string id, std::string value, std::string status = "verified") {
    return identification("email_address", std::move(id), std::move(value), std::move(status));
}

inline identification_record phone(std::string id, std::string value, std::string status = "verified") {
    return identification("phone_number", std::move(id), std::move(value), std::move(status));
}

/// A user with one email identification (idn_<id>_e) as primary, and optionally a username.
inline user_record make_user(std::string id, std::string mail, std::string username = {}, std::int64_t created = 0) {
    user_record u;
    u.id = std::move(id);
    u.identifications.push_back(email("idn_" + u.id + "_e", std::move(mail)));
    u.primary_email_address_id = u.identifications.back().id;
    u.username = std::move(username);
    u.created_at = u.updated_at = created;
    return u;
}

inline session_record make_session(std::string id, std::string client, std::string user, std::string status) {
    session_record s;
    s.id = std::move(id);
    s.client_id = std::move(client);
    s.user_id = std::move(user);
    s.status = std::move(status);
    return s;
}

/// ids of records, in order, for compact comparisons.
template <class T>
std::vector<std::string> ids_of(std::vector<T> const& v) {
    std::vector<std::string> out;
    for (auto const& r : v) out.push_back(r.id);
    return out;
}

inline std::string joined(std::vector<std::string> const& v) {
    std::ostringstream os;
    for (std::size_t i = 0; i < v.size(); ++i) os << (i ? "," : "") << v[i];
    return os.str();
}

}  // namespace latchkey::store::test
