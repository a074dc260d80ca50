// The PostgreSQL-backed store: see store/pg/open.hpp and docs/postgres.md.
//
// PostgreSQL holds the system of record in three tables: latchkey_kv (every LMDB table's entries: tbl, k, v and
// the seq of the commit that last wrote the row), latchkey_changes (one row per commit: a gapless, monotonic seq
// and the commit's changes encoded) and latchkey_schema (the applied migrations). A write runs its body on the
// local LMDB txn, records the txn's puts and deletes, and before LMDB commits sends them to PostgreSQL as ONE
// implicit transaction that inserts latchkey_changes row last_applied+1 (the primary key makes it a
// compare-and-set: a node that has not applied every earlier commit gets a unique violation and retries after
// catching up) and upserts/deletes the kv rows. Only then does LMDB commit, with the replica's last applied seq in
// the same txn. A follower thread applies other nodes' commits to LMDB in seq order.
#include "store/pg/open.hpp"

#include "store/lmdb/db.hpp"
#include "store/log.hpp"

#include <libpq-fe.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <ostream>
#include <random>
#include <string_view>
#include <thread>
#include <unordered_map>

namespace latchkey::store::pg {

namespace {

using namespace std::chrono_literals;

// ---- the schema ----

/// Migration n (1-based) is migrations[n - 1]; applied in order, each in one transaction with its version row.
constexpr std::string_view migrations[] = {
    "CREATE TABLE latchkey_kv (tbl TEXT NOT NULL, k BYTEA NOT NULL, v BYTEA NOT NULL, seq BIGINT NOT NULL, "
    "PRIMARY KEY (tbl, k));"
    "CREATE TABLE latchkey_changes (seq BIGINT PRIMARY KEY, body BYTEA NOT NULL);",
    // 2: every node's applied seq, so the change log can be trimmed below what every live node has applied.
    "CREATE TABLE latchkey_nodes (node TEXT PRIMARY KEY, seq BIGINT NOT NULL, "
    "seen_at TIMESTAMPTZ NOT NULL DEFAULT now());",
};

constexpr std::string_view replica_table = "pg_replica";  // LMDB: the replica's last applied seq (not replicated)
constexpr std::string_view seq_key = "seq";
constexpr std::string_view node_key = "node";  // this replica's name in latchkey_nodes
constexpr std::int64_t batch_rows = 10000;     // rows per SQL page / LMDB txn when loading or copying
constexpr std::string_view reset_body = "R";   // a changes row whose body says "reload everything from latchkey_kv"

// ---- libpq ----

struct conn_closer {
    void operator()(PGconn* c) const noexcept { ::PQfinish(c); }
};
using conn_ptr = std::unique_ptr<PGconn, conn_closer>;

struct result_closer {
    void operator()(PGresult* r) const noexcept { ::PQclear(r); }
};
using result_ptr = std::unique_ptr<PGresult, result_closer>;

/// A connection URL with a connect timeout (libpq waits forever by default) unless it names one.
std::string with_timeout(std::string const& url) {
    if (url.find("connect_timeout") != std::string::npos) return url;
    if (url.starts_with("postgres://") || url.starts_with("postgresql://"))
        return url + (url.find('?') == std::string::npos ? "?" : "&") + "connect_timeout=3";
    return url + " connect_timeout=3";
}

conn_ptr connect(std::string const& url, std::string* why) {
    conn_ptr c(::PQconnectdb(with_timeout(url).c_str()));
    if (!c || ::PQstatus(c.get()) != CONNECTION_OK) {
        if (why != nullptr) *why = c ? ::PQerrorMessage(c.get()) : "out of memory";
        while (why != nullptr && !why->empty() && (why->back() == '\n' || why->back() == ' ')) why->pop_back();
        return nullptr;
    }
    return c;
}

bool broken(PGconn* c) noexcept { return c == nullptr || ::PQstatus(c) != CONNECTION_OK; }

/// What a statement's failure means for the store.
errc classify(PGconn* c, PGresult* r) {
    if (broken(c)) return errc::unavailable;
    char const* state = r != nullptr ? ::PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    if (state != nullptr && std::string_view(state) == "23505") return errc::conflict;  // unique_violation
    // serialization_failure: what CockroachDB answers for a commit that must restart; nothing landed, so it is
    // retried like a lost race (PostgreSQL's own commits here never raise it).
    if (state != nullptr && std::string_view(state) == "40001") return errc::conflict;
    if (state != nullptr && (std::string_view(state).starts_with("08") || std::string_view(state).starts_with("57P")))
        return errc::unavailable;  // connection exceptions, admin shutdown
    return errc::unavailable;
}

void log_failure(char const* op, PGconn* c) {
    std::string msg = c != nullptr ? ::PQerrorMessage(c) : "no connection";
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    store::log("warn", "postgres_failure", {{"op", op}, {"error", msg}});
}

/// Runs a statement without parameters; text results.
result_ptr exec(PGconn* c, std::string const& sql) { return result_ptr(::PQexec(c, sql.c_str())); }

bool ok(PGresult* r) {
    auto s = r != nullptr ? ::PQresultStatus(r) : PGRES_FATAL_ERROR;
    return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

/// A statement with text parameters and binary results.
result_ptr query(PGconn* c, char const* sql, std::vector<std::string> const& params) {
    std::vector<char const*> values;
    std::vector<int> lengths;
    std::vector<int> formats;
    for (auto const& p : params) {
        values.push_back(p.data());
        lengths.push_back(static_cast<int>(p.size()));
        formats.push_back(1);  // binary: bytea travels as bytes, text as its bytes
    }
    return result_ptr(::PQexecParams(c, sql, static_cast<int>(params.size()), nullptr, values.data(), lengths.data(),
                                     formats.data(), 1));
}

std::string_view field(PGresult* r, int row, int col) {
    return {::PQgetvalue(r, row, col), static_cast<std::size_t>(::PQgetlength(r, row, col))};
}

std::int64_t int8_field(PGresult* r, int row, int col) {
    auto v = field(r, row, col);
    std::uint64_t x = 0;
    for (unsigned char ch : v) x = (x << 8) | ch;
    return static_cast<std::int64_t>(x);
}

std::string int8_param(std::int64_t v) {  // binary int8: 8 bytes, big-endian
    std::string s(8, '\0');
    for (int i = 7; i >= 0; --i) {
        s[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xff);
        v >>= 8;
    }
    return s;
}

void hex(std::string& out, std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    out += "decode('";
    for (unsigned char ch : bytes) {
        out += digits[ch >> 4];
        out += digits[ch & 15];
    }
    out += "','hex')";
}

// ---- change sets ----

/// The final state of every key a write txn touched: (table, key) -> value, or nullopt for a delete.
struct change_set {
    std::map<std::pair<std::string, std::string>, std::optional<std::string>> entries;
};

/// The encoding of a change set in latchkey_changes.body: per entry 'p'|'d', u16 table name length, the name,
/// u32 key length, the key, and for 'p' u32 value length and the value (lengths little-endian).
void put_u32(std::string& s, std::size_t n) {
    for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
}

std::string encode(change_set const& cs) {
    std::string s;
    for (auto const& [k, v] : cs.entries) {
        s.push_back(v ? 'p' : 'd');
        s.push_back(static_cast<char>(k.first.size() & 0xff));
        s.push_back(static_cast<char>(k.first.size() >> 8));
        s += k.first;
        put_u32(s, k.second.size());
        s += k.second;
        if (v) {
            put_u32(s, v->size());
            s += *v;
        }
    }
    return s;
}

std::optional<change_set> decode(std::string_view s) {
    change_set cs;
    auto take = [&](std::size_t n) -> std::optional<std::string_view> {
        if (s.size() < n) return std::nullopt;
        auto r = s.substr(0, n);
        s.remove_prefix(n);
        return r;
    };
    auto len = [&](int bytes) -> std::optional<std::size_t> {
        auto b = take(static_cast<std::size_t>(bytes));
        if (!b) return std::nullopt;
        std::size_t n = 0;
        for (int i = bytes - 1; i >= 0; --i)
            n = (n << 8) | static_cast<unsigned char>((*b)[static_cast<std::size_t>(i)]);
        return n;
    };
    while (!s.empty()) {
        char const op = s.front();
        s.remove_prefix(1);
        if (op != 'p' && op != 'd') return std::nullopt;
        auto tl = len(2);
        if (!tl) return std::nullopt;
        auto t = take(*tl);
        if (!t) return std::nullopt;
        auto kl = len(4);
        if (!kl) return std::nullopt;
        auto k = take(*kl);
        if (!k) return std::nullopt;
        std::optional<std::string> v;
        if (op == 'p') {
            auto vl = len(4);
            if (!vl) return std::nullopt;
            auto vv = take(*vl);
            if (!vv) return std::nullopt;
            v = std::string(*vv);
        }
        cs.entries[{std::string(*t), std::string(*k)}] = std::move(v);
    }
    return cs;
}

/// Records a write txn's changes by table name (tables outside the store's list are not replicated).
class recorder final : public lmdb::change_sink {
public:
    explicit recorder(std::unordered_map<MDB_dbi, std::string> const& names) : names_(names) {}
    void on_put(MDB_dbi dbi, std::string_view key, std::string_view val) noexcept override {
        add(dbi, key, std::string(val));
    }
    void on_del(MDB_dbi dbi, std::string_view key) noexcept override { add(dbi, key, std::nullopt); }
    change_set& changes() noexcept { return cs_; }
    bool failed() const noexcept { return failed_; }

private:
    void add(MDB_dbi dbi, std::string_view key, std::optional<std::string> v) noexcept {
        try {
            auto it = names_.find(dbi);
            if (it == names_.end()) return;
            cs_.entries[{it->second, std::string(key)}] = std::move(v);
        } catch (...) {
            failed_ = true;
        }
    }
    std::unordered_map<MDB_dbi, std::string> const& names_;
    change_set cs_;
    bool failed_ = false;
};

/// The SQL of one commit: the changes row (the compare-and-set) and the kv rows, as one implicit transaction.
std::string commit_sql(std::int64_t seq, change_set const& cs, std::string_view body, bool notify = false) {
    std::string sql;
    sql.reserve(256 + body.size() * 4);
    sql += "INSERT INTO latchkey_changes (seq, body) VALUES (";
    sql += std::to_string(seq);
    sql += ',';
    hex(sql, body);
    sql += ");";
    std::string puts;
    for (auto const& [k, v] : cs.entries) {
        if (!v) {
            sql += "DELETE FROM latchkey_kv WHERE tbl='";
            sql += k.first;  // one of the store's own table names: [a-z_]
            sql += "' AND k=";
            hex(sql, k.second);
            sql += ';';
            continue;
        }
        puts += puts.empty() ? "INSERT INTO latchkey_kv (tbl, k, v, seq) VALUES (" : ",(";
        puts += '\'';
        puts += k.first;
        puts += "',";
        hex(puts, k.second);
        puts += ',';
        hex(puts, *v);
        puts += ',';
        puts += std::to_string(seq);
        puts += ')';
    }
    if (!puts.empty()) {
        sql += puts;
        sql += " ON CONFLICT (tbl, k) DO UPDATE SET v = excluded.v, seq = excluded.seq;";
    }
    if (notify) sql += "NOTIFY latchkey_changes;";  // delivered at commit: wakes every node's follower
    return sql;
}

// ---- the replica's bookkeeping in LMDB ----

result<std::int64_t> read_seq(lmdb::txn const& t, MDB_dbi dbi) {
    auto v = t.get(dbi, seq_key);
    if (!v) return v.error();
    if (!*v) return std::int64_t{0};
    std::int64_t n = 0;
    for (char ch : **v) n = n * 10 + (ch - '0');
    return n;
}

result<void> write_seq(lmdb::write_txn& w, MDB_dbi dbi, std::int64_t seq) {
    return w.put(dbi, seq_key, std::to_string(seq));
}

struct change_row {
    std::int64_t seq = 0;
    std::string body;
};

/// Commits after `after`, oldest first (at most `limit`).
result<std::vector<change_row>> fetch_changes(PGconn* c, std::int64_t after, int limit) {
    auto r = query(c, "SELECT seq, body FROM latchkey_changes WHERE seq > $1::bigint ORDER BY seq LIMIT $2::bigint",
                   {int8_param(after), int8_param(limit)});
    if (!ok(r.get())) {
        log_failure("fetch_changes", c);
        return make_error_code(classify(c, r.get()));
    }
    std::vector<change_row> rows;
    for (int i = 0; i < ::PQntuples(r.get()); ++i)
        rows.push_back({int8_field(r.get(), i, 0), std::string(field(r.get(), i, 1))});
    return rows;
}

result<std::int64_t> head_seq(PGconn* c) {
    auto r = query(c, "SELECT coalesce(max(seq), 0)::bigint FROM latchkey_changes", {});
    if (!ok(r.get()) || ::PQntuples(r.get()) != 1) {
        log_failure("head_seq", c);
        return make_error_code(classify(c, r.get()));
    }
    return int8_field(r.get(), 0, 0);
}

result<int> current_schema(PGconn* c) {
    auto r = exec(c, "SELECT coalesce(max(version), 0) FROM latchkey_schema");
    if (!ok(r.get())) return make_error_code(classify(c, r.get()));
    return std::atoi(::PQgetvalue(r.get(), 0, 0));
}

// ---- the database ----

class db final : public store::database {
public:
    db(options o, std::unique_ptr<lmdb::db> local, MDB_dbi replica)
        : o_(std::move(o)), local_(std::move(local)), replica_(replica) {
        for (auto const& [name, dbi] : local_->tables_by_name()) {
            names_.emplace(dbi, name);
            dbis_.emplace(name, dbi);
        }
    }
    ~db() override {
        if (stop_fd_ >= 0) {
            std::uint64_t one = 1;
            (void)!::write(stop_fd_, &one, sizeof one);
        }
        if (follower_.joinable()) follower_.join();
        if (stop_fd_ >= 0) ::close(stop_fd_);
    }

    /// Connects the writer and brings the replica up to date with PostgreSQL (see open()). With o_.start_offline
    /// and PostgreSQL unreachable, a replica that has applied commits starts as it is (writes 503 until the writer
    /// reconnects; the follower catches up then).
    result<void> start(std::string* why) {
        stop_fd_ = ::eventfd(0, EFD_CLOEXEC);
        if (stop_fd_ < 0) return make_error_code(errc::lmdb);
        auto local_seq = local_seq_now();
        if (!local_seq) return local_seq.error();
        if (auto n = node_name(); !n)
            return n.error();
        else
            node_ = std::move(*n);
        writer_ = connect(o_.url, why);
        if (!writer_) {
            if (!o_.start_offline || *local_seq == 0) return make_error_code(errc::unavailable);
            store::log("warn", "postgres_unreachable_at_start",
                       {{"error", *why}, {"replica_seq", std::to_string(*local_seq)}});
            last_reconnect_ = std::chrono::steady_clock::now();
            follower_ = std::thread([this] { follow(); });
            return {};
        }
        notify_ = o_.listen && ok(exec(writer_.get(), "NOTIFY latchkey_changes").get());
        auto head = head_seq(writer_.get());
        if (!head) {
            *why = "cannot read latchkey_changes (run `latchkey migrate`?)";
            return head.error();
        }
        if (*local_seq > *head) {
            *why = "the LMDB replica is ahead of PostgreSQL (seq " + std::to_string(*local_seq) + " > " +
                   std::to_string(*head) + "): it belongs to another PostgreSQL store";
            return make_error_code(errc::corrupted);
        }
        if (*local_seq == 0 && *head == 0) {
            // An empty PostgreSQL store: this replica's contents become the first commit. If another node won
            // the race, load its state instead.
            auto r = push_everything(writer_.get(), *local_, why, false);
            if (!r && r.error() != make_error_code(errc::conflict)) return r;
            if (r) {
                auto w = set_seq(1);
                if (!w) return w;
            }
        }
        if (auto r = catch_up(writer_.get(), true); !r) {
            *why = "cannot catch up with PostgreSQL";
            return r;
        }
        follower_ = std::thread([this] { follow(); });
        return {};
    }

    std::uint64_t version() const noexcept override { return local_->version(); }
    result<void> sync() noexcept override { return local_->sync(); }
    result<storage_usage> usage() const noexcept override { return local_->usage(); }

protected:
    result<void> run_read(function_ref<result<void>(store::read_txn&)> body) const override {
        return local_->read_with(body);
    }

    result<void> run_write(function_ref<result<void>(store::write_txn&)> body) override {
        constexpr int attempts = 50;
        bool may_reconnect = true;
        for (int i = 0; i < attempts; ++i) {
            recorder rec(names_);
            bool conflicted = false;
            bool lost_connection = false;
            auto r = local_->run_write_with(body, rec, [&](lmdb::write_txn& w) -> result<void> {
                if (rec.failed()) return make_error_code(boost::system::errc::not_enough_memory);
                if (rec.changes().entries.empty()) return {};  // wrote nothing: nothing to share
                auto last = read_seq(w, replica_);
                if (!last) return last.error();
                std::int64_t const seq = *last + 1;
                std::lock_guard lk(writer_mu_);
                if (!writer_ready()) return make_error_code(errc::unavailable);
                std::string const encoded = encode(rec.changes());
                auto res = exec(writer_.get(), commit_sql(seq, rec.changes(), encoded, notify_));
                if (!ok(res.get())) {
                    errc const e = classify(writer_.get(), res.get());
                    if (e == errc::conflict) {
                        conflicted = true;
                    } else {
                        log_failure("commit", writer_.get());
                        lost_connection = broken(writer_.get());
                    }
                    return make_error_code(e);
                }
                return write_seq(w, replica_, seq);
            });
            if (lost_connection && may_reconnect) {
                // The connection died (PostgreSQL restarted since the last write, most often): try once more on a
                // new one. Had the lost commit landed, the retry collides with it and re-runs on the newer state.
                may_reconnect = false;
                continue;
            }
            if (r || !conflicted) return r;
            // Another node committed first: apply what we missed, then run the body again on the newer state.
            // Its own connection: writer_mu_ is taken inside LMDB's write lock, so holding it while applying
            // (which takes that lock) could deadlock with another writer.
            std::lock_guard lk(catchup_mu_);
            if (broken(catchup_.get())) catchup_ = connect(o_.url, nullptr);
            if (broken(catchup_.get())) return make_error_code(errc::unavailable);
            if (auto c = catch_up(catchup_.get(), false); !c) return c;
        }
        return make_error_code(errc::conflict);
    }

private:
    /// The writer connection is usable (reconnecting, at most every 200 ms, when it broke). Under writer_mu_.
    bool writer_ready() {
        if (!broken(writer_.get())) return true;
        auto const now = std::chrono::steady_clock::now();
        if (now - last_reconnect_ < 200ms) return false;
        last_reconnect_ = now;
        auto c = reconnect("writer");
        if (!c) return false;
        writer_ = std::move(c);
        notify_ = o_.listen && ok(exec(writer_.get(), "NOTIFY latchkey_changes").get());
        store::log("info", "postgres_reconnected", {{"connection", "writer"}});
        return true;
    }

    /// A new connection, refused (logged, once per `which` and outage) when the schema is not this build's or the
    /// replica is ahead of PostgreSQL's log (a node that started offline learns both only now).
    conn_ptr reconnect(char const* which) {
        std::string why;
        auto c = connect(o_.url, &why);
        if (!c) return nullptr;
        auto have = current_schema(c.get());
        auto head = head_seq(c.get());
        auto local = local_seq_now();
        if (!have || *have != schema_version()) {
            why = "the PostgreSQL schema is not this build's (run `latchkey migrate`)";
        } else if (!head || !local) {
            why = "cannot read the change log";
        } else if (*local > *head) {
            why = "the LMDB replica is ahead of PostgreSQL: it belongs to another store";
        } else {
            return c;
        }
        store::log("error", "postgres_refused", {{"connection", which}, {"error", why}});
        return nullptr;
    }

    /// This replica's name in latchkey_nodes: made once, kept in the replica's own table.
    result<std::string> node_name() {
        auto w = lmdb::write_txn::begin(local_->environment());
        if (!w) return w.error();
        auto v = w->get(replica_, node_key);
        if (!v) return v.error();
        if (*v) return std::string(**v);
        std::random_device rd;
        std::string name = "node_";
        static constexpr char digits[] = "0123456789abcdef";
        for (int i = 0; i < 16; ++i) name += digits[rd() & 15];
        if (auto r = w->put(replica_, node_key, name); !r) return r.error();
        if (auto r = std::move(*w).commit(); !r) return r.error();
        return name;
    }

    result<std::int64_t> local_seq_now() const {
        auto t = lmdb::read_txn::begin(local_->environment());
        if (!t) return t.error();
        return read_seq(*t, replica_);
    }

    result<void> set_seq(std::int64_t seq) {
        auto w = lmdb::write_txn::begin(local_->environment());
        if (!w) return w.error();
        if (auto r = write_seq(*w, replica_, seq); !r) return r;
        return std::move(*w).commit();
    }

    /// Applies every commit after the replica's seq (in batches), or reloads from latchkey_kv when the replica is
    /// empty or a commit says so.
    /// `batched`: a snapshot load commits every batch_rows rows (at start, before anything reads the replica); a
    /// reload while serving is one LMDB txn, so no reader sees half of it.
    result<void> catch_up(PGconn* c, bool batched) {
        for (;;) {
            auto last = local_seq_now();
            if (!last) return last.error();
            if (*last == 0) {
                auto head = head_seq(c);
                if (!head) return head.error();
                if (*head == 0) return {};
                if (auto r = load_into(c, *local_, replica_, batched); !r) return r;
                continue;
            }
            auto rows = fetch_changes(c, *last, 256);
            if (!rows) return rows.error();
            if (rows->empty()) return {};
            bool reset = false;
            if (auto r = apply(*rows, reset); !r) return r;
            if (reset) {
                store::log("info", "postgres_reload", {{"replica_seq", std::to_string(*last)}});
                if (auto r = load_into(c, *local_, replica_, batched); !r) return r;
            }
            if (rows->size() < 256 && !reset) return {};
        }
    }

    /// Applies rows (oldest first) in one LMDB txn: those after the replica's seq, up to a reset marker or a gap.
    /// The log is gapless (a commit inserts last_applied + 1), so a first row past seq + 1 means the commits this
    /// replica needs were trimmed: it reloads a snapshot (reset).
    result<void> apply(std::vector<change_row> const& rows, bool& reset) {
        auto w = lmdb::write_txn::begin(local_->environment());
        if (!w) return w.error();
        auto last = read_seq(*w, replica_);
        if (!last) return last.error();
        std::int64_t seq = *last;
        for (auto const& row : rows) {
            if (row.seq <= seq) continue;
            if (row.seq != seq + 1 || row.body == reset_body) {
                reset = true;
                break;
            }
            auto cs = decode(row.body);
            if (!cs) {
                store::log("error", "postgres_change_undecodable", {{"seq", std::to_string(row.seq)}});
                return make_error_code(errc::corrupted);
            }
            for (auto const& [k, v] : cs->entries) {
                auto it = dbis_.find(k.first);
                if (it == dbis_.end()) continue;  // a table this build does not have
                auto r = v ? w->put(it->second, k.second, *v) : w->del(it->second, k.second);
                if (!r) return r;
            }
            seq = row.seq;
        }
        if (seq == *last) return {};
        if (auto r = write_seq(*w, replica_, seq); !r) return r;
        return std::move(*w).commit();
    }

public:
    /// Replaces every table of `local` with latchkey_kv as of one repeatable-read snapshot, read in pages of
    /// batch_rows (never one result set), and its seq with that snapshot's. `batched`: an LMDB commit per page, the
    /// seq at 0 until the last one (a load cut short starts over), else one LMDB txn.
    static result<void> load_into(PGconn* c, lmdb::db& local, MDB_dbi replica, bool batched) {
        std::unordered_map<std::string, MDB_dbi> dbis;
        for (auto const& [name, dbi] : local.tables_by_name()) dbis.emplace(name, dbi);
        if (!ok(exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ").get())) return make_error_code(classify(c, nullptr));
        auto end = [&](result<void> r) -> result<void> {
            exec(c, r ? "COMMIT" : "ROLLBACK");
            return r;
        };
        auto head = head_seq(c);
        if (!head) return end(head.error());
        std::optional<lmdb::write_txn> w;  // one per page when batched
        if (auto b = lmdb::write_txn::begin(local.environment()); !b)
            return end(b.error());
        else
            w.emplace(std::move(*b));
        for (auto const& [name, dbi] : local.tables_by_name())
            if (auto r = w->clear(dbi); !r) return end(r);
        if (batched) {
            if (auto r = write_seq(*w, replica, 0); !r) return end(r);
        }
        std::string after_t;
        std::string after_k;
        for (;;) {
            auto r = query(c,
                           "SELECT tbl, k, v FROM latchkey_kv WHERE (tbl, k) > ($1::text, $2::bytea) "
                           "ORDER BY tbl, k LIMIT $3::bigint",
                           {after_t, after_k, int8_param(batch_rows)});
            if (!ok(r.get())) {
                log_failure("load_snapshot", c);
                return end(make_error_code(classify(c, r.get())));
            }
            int const n = ::PQntuples(r.get());
            for (int i = 0; i < n; ++i) {
                auto it = dbis.find(std::string(field(r.get(), i, 0)));
                if (it == dbis.end()) continue;
                if (auto p = w->put(it->second, field(r.get(), i, 1), field(r.get(), i, 2)); !p) return end(p);
            }
            if (n < batch_rows) break;
            after_t = std::string(field(r.get(), n - 1, 0));
            after_k = std::string(field(r.get(), n - 1, 1));
            if (batched) {
                auto cr = std::move(*w).commit();
                w.reset();
                if (!cr) return end(cr);
                auto b = lmdb::write_txn::begin(local.environment());
                if (!b) return end(b.error());
                w.emplace(std::move(*b));
            }
        }
        if (auto r = write_seq(*w, replica, *head); !r) return end(r);
        if (auto r = std::move(*w).commit(); !r) return end(r);
        return end({});
    }

    /// Writes every entry of `local` to an EMPTY PostgreSQL store as commit 1 (a reset: whoever follows reloads).
    /// errc::conflict when the store is not empty. Not `batched` (a node's start): one transaction that claims
    /// commit 1 first, so two nodes starting on an empty store never mix. `batched` (`store copy`, an operator on
    /// a store no node uses yet): a transaction per batch of kv rows and commit 1 last, so a million-row store is
    /// neither one transaction nor one statement.
    static result<void> push_everything(PGconn* c, lmdb::db& local, std::string* why, bool batched) {
        std::string first = "INSERT INTO latchkey_changes (seq, body) VALUES (1, ";
        hex(first, reset_body);
        first += ")";
        auto claim = [&]() -> errc {
            auto r = exec(c, first);
            if (ok(r.get())) return errc{};
            errc const e = classify(c, r.get());
            if (e != errc::conflict && why != nullptr) *why = ::PQerrorMessage(c);
            return e;
        };
        if (batched) {
            auto r = exec(c,
                          "SELECT (SELECT count(*) FROM (SELECT 1 FROM latchkey_kv LIMIT 1) kv) + "
                          "(SELECT count(*) FROM (SELECT 1 FROM latchkey_changes LIMIT 1) ch)");
            if (!ok(r.get()) || ::PQntuples(r.get()) != 1) return make_error_code(classify(c, r.get()));
            if (std::string_view(::PQgetvalue(r.get(), 0, 0)) != "0") return make_error_code(errc::conflict);
        } else if (!ok(exec(c, "BEGIN").get())) {
            return make_error_code(classify(c, nullptr));
        }
        auto fail = [&](errc e) -> result<void> {
            if (!batched) exec(c, "ROLLBACK");
            return make_error_code(e);
        };
        if (!batched) {
            if (errc const e = claim(); e != errc{}) return fail(e);
        }
        auto t = lmdb::read_txn::begin(local.environment());
        if (!t) return fail(errc::lmdb);
        change_set batch;
        auto flush = [&]() -> bool {
            if (batch.entries.empty()) return true;
            std::string sql = commit_sql(1, batch, {});
            sql = sql.substr(sql.find(");") + 2);  // the kv rows only
            bool const good = ok(exec(c, sql).get());
            batch.entries.clear();
            return good;
        };
        for (auto const& [name, dbi] : local.tables_by_name()) {
            auto cur = lmdb::cursor::open(*t, dbi);
            if (!cur) return fail(errc::lmdb);
            for (auto e = cur->first();; e = cur->next()) {
                if (!e) return fail(errc::lmdb);
                if (!*e) break;
                batch.entries[{name, std::string((*e)->first)}] = std::string((*e)->second);
                if (batch.entries.size() >= 2000 && !flush()) return fail(classify(c, nullptr));
            }
        }
        if (!flush()) return fail(classify(c, nullptr));
        if (batched) {
            if (errc const e = claim(); e != errc{}) return make_error_code(e);
            return {};
        }
        if (!ok(exec(c, "COMMIT").get())) return make_error_code(classify(c, nullptr));
        return {};
    }

private:
    /// The follower: applies other nodes' commits, woken by a NOTIFY from any node's commit when PostgreSQL has
    /// LISTEN (else, and as the fallback, every o_.poll); reconnects when PostgreSQL went away; every
    /// o_.report_every records this node's seq and trims the log below what every live node applied.
    void follow() {
        conn_ptr c;
        bool reported = false;
        bool listening = false;
        auto next_report = std::chrono::steady_clock::now();
        for (bool first = true;; first = false) {
            if (!first && !wait(c.get(), listening)) return;
            if (broken(c.get())) {
                listening = false;
                c = reconnect("follower");
                if (!c) {
                    if (!reported) store::log("warn", "postgres_unreachable", {{"connection", "follower"}});
                    reported = true;
                    continue;
                }
                if (reported) store::log("info", "postgres_reconnected", {{"connection", "follower"}});
                reported = false;
                listening = o_.listen && ok(exec(c.get(), "LISTEN latchkey_changes").get());
            }
            (void)catch_up(c.get(), false);
            if (auto const now = std::chrono::steady_clock::now(); now >= next_report) {
                next_report = now + o_.report_every;
                report_and_trim(c.get());
            }
        }
    }

    /// Waits for a NOTIFY (when listening), the poll interval or the stop signal; false on stop.
    bool wait(PGconn* c, bool listening) {
        auto drain = [&] {
            bool any = false;
            ::PQconsumeInput(c);
            while (PGnotify* n = ::PQnotifies(c)) {
                ::PQfreemem(n);
                any = true;
            }
            return any;
        };
        listening = listening && !broken(c);
        if (listening && drain()) return true;  // arrived while the last catch-up ran its queries
        pollfd fds[2] = {{stop_fd_, POLLIN, 0}, {listening ? ::PQsocket(c) : -1, POLLIN, 0}};
        auto const timeout = listening ? o_.poll_listening : o_.poll;
        int const n = ::poll(fds, listening ? 2 : 1, static_cast<int>(timeout.count()));
        if (n > 0 && (fds[0].revents & POLLIN) != 0) return false;
        if (listening && (fds[1].revents & POLLIN) != 0) drain();
        return true;
    }

    /// Records the seq this node applied and deletes the commits below what every node seen within o_.node_ttl
    /// applied, keeping the newest o_.keep_changes (at least one: head_seq reads the newest). In pages of
    /// batch_rows. Failures are left for the next round.
    void report_and_trim(PGconn* c) {
        auto seq = local_seq_now();
        if (!seq) return;
        auto r = query(c,
                       "INSERT INTO latchkey_nodes (node, seq, seen_at) VALUES ($1::text, $2::bigint, now()) "
                       "ON CONFLICT (node) DO UPDATE SET seq = excluded.seq, seen_at = excluded.seen_at",
                       {node_, int8_param(*seq)});
        if (!ok(r.get())) return;
        std::int64_t const keep = std::max<std::int64_t>(o_.keep_changes, 1);
        for (int page = 0; page < 100; ++page) {
            auto d = query(c,
                           "DELETE FROM latchkey_changes WHERE seq IN (SELECT seq FROM latchkey_changes WHERE "
                           "seq <= (SELECT coalesce(max(seq), 0) FROM latchkey_changes) - $1::bigint AND "
                           "seq <= (SELECT coalesce(min(seq), 0) FROM latchkey_nodes WHERE "
                           "seen_at > now() - $2::bigint * interval '1 second') ORDER BY seq LIMIT $3::bigint)",
                           {int8_param(keep), int8_param(o_.node_ttl.count()), int8_param(batch_rows)});
            if (!ok(d.get())) return;
            if (std::atoll(::PQcmdTuples(d.get())) < batch_rows) return;
        }
    }

    options o_;
    std::unique_ptr<lmdb::db> local_;
    MDB_dbi replica_;
    std::unordered_map<MDB_dbi, std::string> names_;
    std::unordered_map<std::string, MDB_dbi> dbis_;
    std::mutex writer_mu_;  ///< the writer connection (commits, a conflict's catch-up)
    conn_ptr writer_;
    std::chrono::steady_clock::time_point last_reconnect_{};
    std::mutex catchup_mu_;  ///< the catch-up connection (never taken inside an LMDB write txn)
    conn_ptr catchup_;
    int stop_fd_ = -1;  ///< an eventfd: written once to stop the follower
    std::string node_;
    std::atomic<bool> notify_{false};  ///< commits carry a NOTIFY (PostgreSQL has it; CockroachDB does not)
    std::thread follower_;
};

/// Opens the LMDB store and the replica's own bookkeeping table.
result<std::pair<std::unique_ptr<lmdb::db>, MDB_dbi>> open_local(lmdb::options const& o) {
    auto d = lmdb::db::open(o);
    if (!d) return d.error();
    auto w = lmdb::write_txn::begin((*d)->environment());
    if (!w) return w.error();
    auto dbi = w->open_dbi(std::string(replica_table).c_str());
    if (!dbi) return dbi.error();
    if (auto c = std::move(*w).commit(); !c) return c.error();
    return std::pair{std::move(*d), *dbi};
}

}  // namespace

int schema_version() noexcept { return static_cast<int>(std::size(migrations)); }

result<int> migrate(std::string const& url, std::string* why) {
    auto c = connect(url, why);
    if (!c) return make_error_code(errc::unavailable);
    if (!ok(exec(c.get(),
                 "CREATE TABLE IF NOT EXISTS latchkey_schema (version INT PRIMARY KEY, "
                 "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
                .get())) {
        *why = ::PQerrorMessage(c.get());
        return make_error_code(errc::unavailable);
    }
    auto have = current_schema(c.get());
    if (!have) {
        *why = ::PQerrorMessage(c.get());
        return have.error();
    }
    if (*have > schema_version()) {
        *why = "the PostgreSQL schema (version " + std::to_string(*have) + ") is newer than this build's (" +
               std::to_string(schema_version()) + ")";
        return make_error_code(errc::corrupted);
    }
    for (int v = *have + 1; v <= schema_version(); ++v) {
        // One transaction per migration; a concurrent migrator loses on the version's primary key.
        std::string sql = "BEGIN;";
        sql += migrations[v - 1];
        sql += "INSERT INTO latchkey_schema (version) VALUES (" + std::to_string(v) + ");COMMIT;";
        if (auto r = exec(c.get(), sql); !ok(r.get())) {
            *why = "migration " + std::to_string(v) + ": " + ::PQerrorMessage(c.get());
            exec(c.get(), "ROLLBACK");
            return make_error_code(errc::unavailable);
        }
    }
    return schema_version();
}

result<std::unique_ptr<store::database>> open(options const& o, std::string* why) {
    std::string scratch;
    if (why == nullptr) why = &scratch;
    if (o.migrate) {
        auto m = migrate(o.url, why);
        if (!m) return m.error();
    } else {
        auto c = connect(o.url, why);
        if (!c && !o.start_offline) return make_error_code(errc::unavailable);
        auto have = c ? current_schema(c.get()) : result<int>(schema_version());  // offline: checked on reconnect
        if (!have || *have != schema_version()) {
            *why = "the PostgreSQL schema is at version " + (have ? std::to_string(*have) : std::string("0")) +
                   ", this build needs " + std::to_string(schema_version()) +
                   ": run `latchkey migrate` (or serve --migrate)";
            return make_error_code(errc::corrupted);
        }
    }
    auto local = open_local(o.local);
    if (!local) {
        *why = "cannot open the LMDB replica: " + local.error().message();
        return local.error();
    }
    auto d = std::make_unique<db>(o, std::move(local->first), local->second);
    if (auto r = d->start(why); !r) return r.error();
    return std::unique_ptr<store::database>(std::move(d));
}

result<std::unique_ptr<store::database>> open_store(lmdb::options const& local, std::string const& postgres_url,
                                                    std::string* why) {
    if (postgres_url.empty()) {
        auto d = lmdb::open(local);
        if (!d && why != nullptr) *why = d.error().message();
        return d;
    }
    options o;
    o.url = postgres_url;
    o.local = local;
    return open(o, why);
}

int copy_main(std::vector<std::string> const& args, std::ostream& out, std::ostream& err) {
    std::string from;
    std::string to;
    for (std::size_t i = 0; i + 1 < args.size(); i += 2) {
        if (args[i] == "--from")
            from = args[i + 1];
        else if (args[i] == "--to")
            to = args[i + 1];
        else {
            err << "latchkey store copy: unknown option " << args[i] << "\n";
            return 2;
        }
    }
    if (args.size() % 2 != 0 || from.empty() || to.empty()) {
        err << "usage: latchkey store copy --from lmdb:DIR|postgres://... --to lmdb:DIR|postgres://...\n";
        return 2;
    }
    bool const from_lmdb = from.starts_with("lmdb:");
    bool const to_lmdb = to.starts_with("lmdb:");
    if (from_lmdb == to_lmdb) {
        err << "latchkey store copy: copy between an lmdb:DIR and a PostgreSQL URL\n";
        return 2;
    }
    std::string const url = from_lmdb ? to : from;
    lmdb::options lo;
    lo.dir = (from_lmdb ? from : to).substr(5);
    std::string why;
    auto c = connect(url, &why);
    if (!c) {
        err << "latchkey store copy: " << why << "\n";
        return 1;
    }
    auto have = current_schema(c.get());
    if (!have || *have != schema_version()) {
        err << "latchkey store copy: the PostgreSQL schema is not current: run `latchkey migrate` first\n";
        return 1;
    }
    auto local = open_local(lo);
    if (!local) {
        err << "latchkey store copy: cannot open " << lo.dir << ": " << local.error().message() << "\n";
        return 1;
    }
    if (from_lmdb) {
        auto r = db::push_everything(c.get(), *local->first, &why, true);
        if (r.has_error() && r.error() == make_error_code(errc::conflict)) {
            err << "latchkey store copy: the PostgreSQL store is not empty\n";
            return 1;
        }
        if (!r) {
            err << "latchkey store copy: " << why << "\n";
            return 1;
        }
        // The source directory is now a replica of commit 1.
        auto w = lmdb::write_txn::begin(local->first->environment());
        if (w && write_seq(*w, local->second, 1)) (void)std::move(*w).commit();
    } else {
        if (auto r = db::load_into(c.get(), *local->first, local->second, true); !r) {
            err << "latchkey store copy: " << r.error().message() << "\n";
            return 1;
        }
    }
    std::size_t n = 0;
    if (auto t = lmdb::read_txn::begin(local->first->environment())) {
        for (auto const& [name, dbi] : local->first->tables_by_name())
            if (auto k = t->count(dbi)) n += *k;
    }
    out << "copied " << n << " entries " << (from_lmdb ? "to PostgreSQL" : "to " + lo.dir) << "\n";
    return 0;
}

}  // namespace latchkey::store::pg
