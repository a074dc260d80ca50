#include "server/command_store.hpp"

#include "store/lmdb/open.hpp"
#include "store/pg/open.hpp"

#include <ostream>
#include <string>

namespace latchkey::server {

std::unique_ptr<store::database> open_command_store(conf::config const& cfg, std::string_view command,
                                                    std::ostream& err) {
    store::lmdb::options so;
    so.dir = cfg.data_dir + "/db";
    so.map_size = cfg.map_size;
    so.durable = true;
    std::string why;  // issue 16: through PostgreSQL when the node uses it
    auto opened = store::pg::open_store(so, cfg.postgres_url, &why);
    if (!opened) {
        err << "latchkey: " << command << ": cannot open the store in " << cfg.data_dir << ": " << why << "\n";
        return nullptr;
    }
    return std::move(*opened);
}

}  // namespace latchkey::server
