#pragma once
// The console's commands (issue 23), on the data dir, also beside a running server (LMDB is multi-process):
//   latchkey console-link [--operator NAME] [--base-url URL]   one-time sign-in URL (5 minutes, single use)
//   latchkey operators add --name NAME --role admin|support|viewer [--password PW] [--totp]
//   latchkey operators list
//   latchkey audit [--limit N]                                 the audit log, newest first, one JSON line each
#include "conf/config.hpp"

#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

namespace latchkey::server::console_cli {

/// The option names the commands take (each with a value), for the argument split in run_main.
bool is_value_option(std::string const& flag);
/// The switches (no value): --totp.
bool is_switch_option(std::string const& flag);

/// Runs `latchkey <cmd> [sub]` ("console-link", "operators", "audit"); returns the exit code (0 ok, 1 failed,
/// 2 bad usage).
int main(conf::config const& cfg, std::string const& cmd, std::string const& sub,
         std::vector<std::pair<std::string, std::string>> const& opts, std::ostream& out, std::ostream& err);

}  // namespace latchkey::server::console_cli
