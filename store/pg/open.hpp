#pragma once
// The PostgreSQL-backed store (issue 16): PostgreSQL is the system of record shared by every node, each node's LMDB
// a local replica. What the composition root and the CLI need, without <libpq-fe.h> or <lmdb.h>. The design, its
// consistency guarantees and the failure table are in docs/postgres.md.
#include "store/error.hpp"
#include "store/lmdb/open.hpp"
#include "store/store.hpp"

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

namespace latchkey::store::pg {

struct options {
    std::string url;                     ///< libpq connection URL or key=value string
    lmdb::options local;                 ///< the node's LMDB replica
    bool migrate = false;                ///< apply pending schema migrations first (else a behind schema is an error)
    std::chrono::milliseconds poll{50};  ///< how often the follower asks PostgreSQL for other nodes' changes
    /// With LISTEN/NOTIFY (PostgreSQL; not CockroachDB) a commit wakes every follower at once and the poll is only
    /// the fallback, every `poll_listening`. `listen = false` keeps the plain poll.
    bool listen = true;
    std::chrono::milliseconds poll_listening{1000};
    /// Change-log trimming: every `report_every` the follower records the seq this node applied (latchkey_nodes)
    /// and deletes the commits every node seen within `node_ttl` has applied, keeping at least the newest
    /// `keep_changes`. A node that comes back behind the trimmed point reloads a snapshot.
    std::int64_t keep_changes = 100000;
    std::chrono::seconds node_ttl{3600};
    std::chrono::milliseconds report_every{1000};
    /// PostgreSQL unreachable at start: with a replica that has applied at least one commit, start anyway (reads
    /// and mints from the replica, writes 503 until it is back; the follower catches up then). Else fail.
    bool start_offline = false;
};

/// The newest schema version this build knows.
int schema_version() noexcept;

/// Applies the pending schema migrations (each in its own transaction, recorded in latchkey_schema). Returns the
/// schema version now in place; `*why` says what failed.
result<int> migrate(std::string const& url, std::string* why);

/// Opens the replicated store: connects, checks the schema (migrating when o.migrate), opens the LMDB replica and
/// brings it up to date (an empty PostgreSQL store is initialized from the replica's contents; a fresh replica is
/// loaded from PostgreSQL), then starts the follower thread. `*why` says what failed.
result<std::unique_ptr<store::database>> open(options const& o, std::string* why);

/// The store a process opens: LMDB alone when `postgres_url` is empty, else the PostgreSQL-backed store with `local`
/// as its replica (so a CLI write beside a running node goes through PostgreSQL too). `*why` says what failed.
result<std::unique_ptr<store::database>> open_store(lmdb::options const& local, std::string const& postgres_url,
                                                    std::string* why);

/// `latchkey store copy --from SRC --to DST`, SRC/DST being `lmdb:DIR` or a postgres:// URL (one of each).
/// LMDB -> PostgreSQL needs an empty PostgreSQL store (migrated first); PostgreSQL -> LMDB replaces the directory's
/// tables and leaves it a replica that is up to date. Returns the process exit code.
int copy_main(std::vector<std::string> const& args, std::ostream& out, std::ostream& err);

}  // namespace latchkey::store::pg
