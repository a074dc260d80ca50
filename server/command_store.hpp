#pragma once
// The store an operator command (`latchkey users`, `import`, `export`) works on: the node's own, opened as `serve`
// opens it (LMDB in <data_dir>/db, through PostgreSQL when the node uses it). Below both the users command and
// server/migrate, so neither includes the other for it.
#include "conf/config.hpp"
#include "store/store.hpp"

#include <iosfwd>
#include <memory>
#include <string_view>

namespace latchkey::server {

/// The node's store, or null after a line on `err` saying why (`command` names the command in it).
std::unique_ptr<store::database> open_command_store(conf::config const& cfg, std::string_view command,
                                                    std::ostream& err);

}  // namespace latchkey::server
