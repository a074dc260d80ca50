#include "store/store.hpp"

#include <algorithm>
#include <new>

namespace latchkey::store {

result<void> seed(database& db, std::vector<user_record> const& users, std::vector<session_record> const& sessions,
                  std::vector<client_record> const& clients, std::size_t batch) noexcept {
    try {
        if (batch == 0) batch = seed_batch;
        auto load = [&](auto const& records, auto put) -> result<void> {
            for (std::size_t done = 0; done < records.size();) {
                std::size_t const n = std::min(batch, records.size() - done);
                auto r = db.with_write([&](write_txn& w) -> result<void> {
                    for (std::size_t i = done; i < done + n; ++i)
                        if (auto x = put(w, records[i]); !x) return x;
                    return {};
                });
                if (!r) return r;
                done += n;
            }
            return {};
        };
        if (auto r = load(users, [](write_txn& w, user_record const& u) { return w.users().put(u, nullptr); }); !r)
            return r;
        if (auto r = load(sessions, [](write_txn& w, session_record const& s) { return w.sessions().put(s); }); !r)
            return r;
        if (auto r = load(clients, [](write_txn& w, client_record const& c) { return w.clients().put(c); }); !r)
            return r;
        return db.sync();
    } catch (std::bad_alloc const&) {
        return make_error_code(boost::system::errc::not_enough_memory);
    }
}

}  // namespace latchkey::store
