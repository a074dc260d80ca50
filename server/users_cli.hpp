#pragma once
// `latchkey users create|list|export|import`: user administration on the data dir, also while a server runs on
// it (LMDB is multi-process: each command is a few short write txns beside the server's).
#include "conf/config.hpp"
#include "store/store.hpp"

#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::server {

/// Runs `latchkey users <sub> [options]` (options already stripped of the config flags in `cfg`). Writes JSON
/// lines to `out` and problems to `err`; returns the exit code (0 ok, 1 some records failed, 2 bad usage).
int users_main(conf::config const& cfg, std::string const& sub,
               std::vector<std::pair<std::string, std::string>> const& opts, std::istream& in, std::ostream& out,
               std::ostream& err);

/// The node's store as an operator command opens it: the data dir's LMDB (durable commits), through PostgreSQL when
/// the node uses one. On failure writes "latchkey: <command>: cannot open the store in <dir>: <why>" to `err` and
/// returns null.
/// The option names `users_main` takes (each with a value), for the argument split in run_main.
bool is_users_option(std::string const& flag);

}  // namespace latchkey::server
