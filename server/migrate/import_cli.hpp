#pragma once
// `latchkey import SOURCE` and `latchkey export`: moving users in from Clerk (Dashboard CSV, CLI JSON, a
// Clerk-compatible Backend API) and back out in the same formats. Both run beside a server on the same data dir.
#include "conf/config.hpp"
#include "store/store.hpp"

#include <functional>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

namespace latchkey::server::migrate {

using options = std::vector<std::pair<std::string, std::string>>;

/// The flags `import`/`export` take with a value, and those without one, for the argument split in run_main.
bool is_value_option(std::string const& flag);
bool is_switch_option(std::string const& flag);

/// Runs `latchkey import SOURCE [--format clerk-csv|clerk-json|bapi] [--dry-run] [--report FILE]
/// [--secret-key KEY] [--digests FILE] [--batch N]`. Exit code: 0 when no row failed, 1 when some did, 2 on bad
/// usage or an unreadable source.
int import_main(conf::config const& cfg, std::string const& source, options const& o, std::ostream& out,
                std::ostream& err);

/// Every user of `db`, oldest first, in an import format — `csv`: Clerk's Dashboard CSV (header line first; password
/// digests and TOTP secrets only with `secrets`), else Clerk's CLI JSON (an array) — handed to `sink` piece by
/// piece, a page of 1,000 users per read txn. Returns how many users were written. For `latchkey export` and the
/// console's download (GET /v1/exports/users).
store::result<std::size_t> write_users(store::database& db, bool csv, bool secrets,
                                       std::function<void(std::string_view)> const& sink);

/// Runs `latchkey export --format clerk-csv|clerk-json [--include-secrets] [--out FILE]`.
int export_main(conf::config const& cfg, options const& o, std::ostream& out, std::ostream& err);

}  // namespace latchkey::server::migrate
