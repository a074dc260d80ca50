#include "server/migrate/import_cli.hpp"

#include "crypto/password.hpp"
#include "server/api/domain/mfa.hpp"
#include "server/command_store.hpp"
#include "server/instance.hpp"
#include "server/migrate/bapi_source.hpp"
#include "server/migrate/clerk.hpp"
#include "server/migrate/org_import.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace latchkey::server::migrate {

namespace json = boost::json;

namespace {

constexpr std::string_view value_options[] = {"--format", "--report", "--secret-key", "--digests", "--batch", "--out"};
constexpr std::string_view switch_options[] = {"--dry-run", "--include-secrets", "--users-only"};

std::optional<std::string> opt(options const& o, std::string_view name) {
    for (auto const& [k, v] : o)
        if (k == name) return v;
    return std::nullopt;
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// A read-only mapping of a whole file (the CSV/JSON text stays in the page cache, not the heap).
class mapped_file {
public:
    explicit mapped_file(std::string const& path) {
        int const fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return;
        struct stat st {};
        if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
            size_ = static_cast<std::size_t>(st.st_size);
            ok_ = true;
            if (size_ > 0) {
                void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
                if (p == MAP_FAILED) {
                    ok_ = false;
                } else {
                    data_ = static_cast<char const*>(p);
                    (void)::madvise(p, size_, MADV_SEQUENTIAL);
                }
            }
        }
        ::close(fd);
    }
    mapped_file(mapped_file const&) = delete;
    mapped_file& operator=(mapped_file const&) = delete;
    ~mapped_file() {
        if (data_ != nullptr) ::munmap(const_cast<char*>(data_), size_);
    }
    bool ok() const noexcept { return ok_; }
    std::string_view text() const noexcept { return {data_ == nullptr ? "" : data_, data_ == nullptr ? 0 : size_}; }

private:
    char const* data_ = nullptr;
    std::size_t size_ = 0;
    bool ok_ = false;
};

/// What became of one row.
struct outcome {
    std::size_t line = 0;
    std::string id;
    std::string status;  ///< "failed" | "conflict" | "warning"
    std::string reason;
};

struct tally {
    std::size_t rows = 0, imported = 0, unchanged = 0, failed = 0, conflicts = 0, warnings = 0;
    std::vector<outcome> notes;  ///< every failed/conflicting/warned row (successes are only counted)
};

/// Progress: a bar with rate and ETA on a terminal, a plain line every few seconds otherwise.
class progress {
public:
    progress(std::ostream& err, bool tty) : err_(err), tty_(tty), start_(clock::now()), last_(start_) {}

    void update(tally const& t, double fraction, bool final = false) {
        auto const now = clock::now();
        if (!final && now - last_ < (tty_ ? std::chrono::milliseconds(200) : std::chrono::seconds(5))) return;
        last_ = now;
        double const secs = std::chrono::duration<double>(now - start_).count();
        double const rate = secs > 0 ? static_cast<double>(t.rows) / secs : 0;
        double const eta = fraction > 0.0001 ? secs * (1 - fraction) / fraction : 0;
        std::ostringstream line;
        line << std::fixed << std::setprecision(0);
        if (tty_) {
            int const width = 30;
            int const filled = static_cast<int>(fraction * width);
            line << "\r[" << std::string(static_cast<std::size_t>(std::max(0, filled)), '#')
                 << std::string(static_cast<std::size_t>(std::max(0, width - filled)), '.') << "] " << t.rows
                 << " rows  " << rate << "/s  ETA " << eta << "s  failed " << (t.failed + t.conflicts) << "   ";
            if (final) line << "\n";
        } else {
            line << "progress: " << t.rows << " rows (" << fraction * 100 << "%), " << rate << " rows/s, "
                 << (t.failed + t.conflicts) << " failed\n";
        }
        err_ << line.str() << std::flush;
    }

private:
    using clock = std::chrono::steady_clock;
    std::ostream& err_;
    bool tty_;
    clock::time_point start_, last_;
};

/// Writes rows in batches (one write txn each), or only checks them (--dry-run).
class importer {
public:
    importer(store::database& db, bool dry_run, std::size_t batch, tally& t, std::string data_dir)
        : db_(db), dry_run_(dry_run), batch_size_(batch), t_(t), data_dir_(std::move(data_dir)) {}

    void add(user_row row) {
        ++t_.rows;
        if (!row.error.empty()) {
            fail(row, "failed", row.error);
            return;
        }
        auto const h = std::hash<std::string>{}(row.id);
        if (auto [it, fresh] = seen_.try_emplace(h, row.line); !fresh) {
            fail(row, "failed", "duplicate id: the same user is on line " + std::to_string(it->second));
            return;
        }
        batch_.push_back(std::move(row));
        if (batch_.size() >= batch_size_) flush();
    }

    /// Writes what is pending. False when the store refused a whole batch (its rows are reported).
    bool flush() {
        if (batch_.empty()) return true;
        auto rows = std::move(batch_);
        batch_.clear();
        std::vector<outcome> results(rows.size());
        auto decide = [&](store::read_txn const& t, std::size_t i) -> int {
            auto const& r = rows[i];
            auto existing = t.users().get(r.id);
            if (!existing) return -1;
            if (*existing) return 1;  // unchanged: imported before (a re-run or a resumed run)
            return 0;
        };
        auto conflict_text = [&](store::read_txn const& t, user_row const& r, store::unique_field f) -> std::string {
            std::string what = "a unique field";
            std::optional<std::string> owner;
            for (auto const& i : r.user.identifications) {
                if (!store::owns_address(i)) continue;
                auto o = i.kind == "email_address" ? t.users().id_by_email(i.value) : t.users().id_by_phone(i.value);
                if (o && *o && **o != r.id) {
                    owner = **o;
                    what = "the same verified " +
                           std::string(i.kind == "email_address" ? "email address " : "phone number ") + i.value;
                    break;
                }
            }
            if (!owner && f == store::unique_field::username && !r.user.username.empty()) {
                if (auto o = t.users().id_by_username(r.user.username); o && *o) {
                    owner = **o;
                    what = "the username " + r.user.username;
                }
            }
            if (!owner && f == store::unique_field::external_id && !r.user.external_id.empty()) {
                if (auto o = t.users().id_by_external_id(r.user.external_id); o && *o) {
                    owner = **o;
                    what = "the external_id " + r.user.external_id;
                }
            }
            if (owner) return "exists as " + *owner + " with " + what + "; not merged";
            return "conflicts with another row or user on " + what;
        };
        boost::system::error_code fatal;
        if (dry_run_) {
            auto r = db_.with_read([&](store::read_txn const& t) -> store::result<void> {
                for (std::size_t i = 0; i < rows.size(); ++i) {
                    int const d = decide(t, i);
                    if (d == 1) {
                        results[i].status = "unchanged";
                        continue;
                    }
                    // Conflicts with the store or with earlier rows of this run.
                    auto const& u = rows[i].user;
                    std::string reason;
                    for (auto const& idn : u.identifications) {
                        if (!store::owns_address(idn)) continue;
                        auto o = idn.kind == "email_address" ? t.users().id_by_email(idn.value)
                                                             : t.users().id_by_phone(idn.value);
                        if ((o && *o) || !claimed_.insert(std::hash<std::string>{}(idn.value)).second) {
                            reason = conflict_text(t, rows[i], store::unique_field::email_address);
                            break;
                        }
                    }
                    if (reason.empty() && !u.username.empty()) {
                        auto o = t.users().id_by_username(u.username);
                        if ((o && *o) || !claimed_.insert(std::hash<std::string>{}("\x01" + u.username)).second)
                            reason = conflict_text(t, rows[i], store::unique_field::username);
                    }
                    results[i].status = reason.empty() ? "imported" : "conflict";
                    results[i].reason = reason;
                }
                return {};
            });
            if (!r) fatal = r.error();
        } else {
            std::optional<store::result<void>> r;
            try {
                r = db_.with_write([&](store::write_txn& w) -> store::result<void> {
                    for (std::size_t i = 0; i < rows.size(); ++i) {
                        int const d = decide(w, i);
                        if (d < 0) return store::errc::lmdb;
                        if (d == 1) {
                            results[i].status = "unchanged";
                            continue;
                        }
                        store::unique_field conflict = store::unique_field::none;
                        auto put = w.users().put(rows[i].user, nullptr, &conflict);
                        if (put) {
                            results[i].status = "imported";
                            // The authenticator app keeps working: the secret enrolled as the verified TOTP, in
                            // this txn (validated when read, so only a store failure can refuse it).
                            if (!rows[i].totp_secret.empty()) {
                                auto e = api::domain::enroll_totp(w, seal_key(), rows[i].id, rows[i].totp_secret, now_);
                                if (!e) return store::errc::aborted;
                            }
                        } else if (put.error() == store::make_error_code(store::errc::key_exists)) {
                            results[i].status = "conflict";
                            results[i].reason = conflict_text(w, rows[i], conflict);
                        } else if (put.error() == store::make_error_code(store::errc::invalid_key)) {
                            results[i].status = "failed";
                            results[i].reason = "a value is too long to index";
                        } else {
                            return put.error();  // the store itself failed: nothing of this batch is written
                        }
                    }
                    return {};
                });
            } catch (std::exception const& e) {  // the seal key could not be read or made
                for (auto const& row : rows) fail(row, "failed", std::string("the batch was not written: ") + e.what());
                return false;
            }
            if (!*r) fatal = r->error();
        }
        if (fatal) {
            for (auto const& row : rows) fail(row, "failed", "the store refused the batch: " + fatal.message());
            return false;
        }
        for (std::size_t i = 0; i < rows.size(); ++i) {
            auto const& res = results[i];
            if (res.status == "imported") {
                ++t_.imported;
                if (dry_run_) dry_ok_.insert(rows[i].id);
            } else if (res.status == "unchanged") {
                ++t_.unchanged;
            } else {
                fail(rows[i], res.status, res.reason);
            }
        }
        return true;
    }

    /// A dry run: whether a row with this user id went through without a problem.
    bool would_import(std::string const& id) const { return dry_ok_.contains(id); }

private:
    void note(user_row const& r, std::string status, std::string reason) {
        if (status == "warning") ++t_.warnings;
        t_.notes.push_back({r.line, r.id, std::move(status), std::move(reason)});
    }
    void fail(user_row const& r, std::string status, std::string reason) {
        (status == "conflict" ? t_.conflicts : t_.failed)++;
        note(r, std::move(status), std::move(reason));
    }

    /// The data dir's seal key (TOTP secrets are sealed with it), loaded at the first secret to enrol.
    crypto::seal_key const& seal_key() {
        if (!seal_) seal_ = server::load_seal_key(data_dir_);
        return *seal_;
    }

    store::database& db_;
    bool dry_run_;
    std::size_t batch_size_;
    tally& t_;
    std::vector<user_row> batch_;
    std::int64_t now_ =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    std::unordered_map<std::size_t, std::size_t> seen_;  ///< hash of id -> first line
    std::unordered_set<std::size_t> claimed_;            ///< dry run: addresses and usernames taken by earlier rows
    std::unordered_set<std::string> dry_ok_;             ///< dry run: ids of the rows that would be imported
    std::string data_dir_;
    std::optional<crypto::seal_key> seal_;
};

std::string detect_format(std::string const& source, std::string_view text) {
    if (source.starts_with("http://") || source.starts_with("https://")) return "bapi";
    for (char c : text.substr(text.starts_with("\xEF\xBB\xBF") ? 3 : 0)) {
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
        return c == '[' || c == '{' ? "clerk-json" : "clerk-csv";
    }
    return "clerk-csv";
}

/// The digests (and TOTP secrets) of a Dashboard CSV by user id, for `bapi --digests FILE`.
struct secrets {
    std::string digest, hasher, totp;
};

}  // namespace

bool is_value_option(std::string const& flag) {
    return std::find(std::begin(value_options), std::end(value_options), flag) != std::end(value_options);
}

bool is_switch_option(std::string const& flag) {
    return std::find(std::begin(switch_options), std::end(switch_options), flag) != std::end(switch_options);
}

int import_main(conf::config const& cfg, std::string const& source, options const& o, std::ostream& out,
                std::ostream& err) {
    bool const dry_run = opt(o, "--dry-run").has_value();
    std::size_t batch = 1000;
    if (auto b = opt(o, "--batch")) {
        try {
            batch = std::stoul(*b);
        } catch (std::exception const&) {
            batch = 0;
        }
        if (batch == 0 || batch > 100000) {
            err << "latchkey: import: --batch takes 1..100000\n";
            return 2;
        }
    }
    std::optional<mapped_file> file;
    std::string_view text;
    std::string format = opt(o, "--format").value_or("");
    bool const remote = source.starts_with("http://") || source.starts_with("https://");
    if (!remote) {
        file.emplace(source);
        if (!file->ok()) {
            err << "latchkey: import: cannot read " << source << "\n";
            return 2;
        }
        text = file->text();
    }
    if (format.empty()) format = detect_format(source, text);
    if (format != "clerk-csv" && format != "clerk-json" && format != "bapi") {
        err << "latchkey: import: --format is clerk-csv, clerk-json or bapi\n";
        return 2;
    }
    if ((format == "bapi") != remote) {
        err << "latchkey: import: the bapi format reads an http(s) URL; files are clerk-csv or clerk-json\n";
        return 2;
    }
    // A data dir the import creates is the owner's only, as the server's bootstrap makes it.
    (void)::mkdir(cfg.data_dir.c_str(), 0700);
    auto opened = open_command_store(cfg, "import", err);
    if (!opened) return 2;
    auto& db = *opened;
    tally t;
    importer imp(db, dry_run, batch, t, cfg.data_dir);
    progress bar(err, ::isatty(STDERR_FILENO) == 1);
    std::int64_t const now = now_ms();
    std::string fatal;

    if (format == "clerk-csv") {
        csv_reader reader(text);
        auto head = reader.next();
        std::vector<std::string> header;
        if (!head || !head->error.empty()) {
            fatal = head ? "line " + std::to_string(head->line) + ": " + head->error : "the file is empty";
        } else if (auto why = check_csv_header(head->fields); !why.empty()) {
            fatal = "line 1: " + why;
        } else {
            header = std::move(head->fields);
            while (auto rec = reader.next()) {
                imp.add(user_from_csv(*rec, header, now));
                bar.update(
                    t, text.empty() ? 1.0 : static_cast<double>(reader.offset()) / static_cast<double>(text.size()));
            }
        }
    } else if (format == "clerk-json") {
        // A JSON array of users, or one user object per line.
        auto const start = text.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
        if (start != std::string_view::npos && text[start] == '[') {
            boost::system::error_code ec;
            auto v = json::parse(text, ec);
            if (ec || !v.is_array()) {
                fatal = "the file is not a JSON array of users: " + (ec ? ec.message() : std::string("not an array"));
            } else {
                auto const& a = v.get_array();
                for (std::size_t i = 0; i < a.size(); ++i) {
                    imp.add(user_from_json(a[i], i + 1, now));
                    bar.update(t, static_cast<double>(i + 1) / static_cast<double>(a.size()));
                }
            }
        } else {
            std::size_t line = 0, pos = 0;
            while (pos < text.size()) {
                auto const end = text.find('\n', pos);
                std::string_view l =
                    text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
                pos = end == std::string_view::npos ? text.size() : end + 1;
                ++line;
                if (l.find_first_not_of(" \t\r") == std::string_view::npos) continue;
                boost::system::error_code ec;
                auto v = json::parse(l, ec);
                user_row r;
                if (ec) {
                    r.line = line;
                    r.error = "not JSON: " + ec.message();
                } else {
                    r = user_from_json(v, line, now);
                }
                imp.add(std::move(r));
                bar.update(t, static_cast<double>(pos) / static_cast<double>(text.size()));
            }
        }
    } else {
        auto key = opt(o, "--secret-key");
        if (!key || key->empty()) {
            err << "latchkey: import: bapi needs --secret-key KEY\n";
            return 2;
        }
        std::unordered_map<std::string, secrets> by_id;
        std::optional<mapped_file> digests;
        if (auto path = opt(o, "--digests")) {
            digests.emplace(*path);
            if (!digests->ok()) {
                err << "latchkey: import: cannot read " << *path << "\n";
                return 2;
            }
            csv_reader reader(digests->text());
            auto head = reader.next();
            if (!head || !head->error.empty() || !check_csv_header(head->fields).empty()) {
                err << "latchkey: import: " << *path << " is not a Clerk Dashboard CSV\n";
                return 2;
            }
            auto col = [&](std::string_view name) {
                auto it = std::find(head->fields.begin(), head->fields.end(), name);
                return it == head->fields.end() ? SIZE_MAX : static_cast<std::size_t>(it - head->fields.begin());
            };
            auto const ci = col("id"), cd = col("password_digest"), ch = col("password_hasher"),
                       ct = col("totp_secret");
            auto at = [](csv_record const& r, std::size_t c) {
                return c < r.fields.size() ? r.fields[c] : std::string{};
            };
            while (auto rec = reader.next())
                if (rec->error.empty()) by_id[at(*rec, ci)] = {at(*rec, cd), at(*rec, ch), at(*rec, ct)};
        }
        std::size_t position = 0;
        auto page_error = fetch_users(
            source, *key,
            [&](json::value user, std::size_t total) {
                ++position;
                if (user.is_object()) {
                    auto& uo = user.get_object();
                    if (auto const* id = uo.if_contains("id"); id && id->is_string()) {
                        if (auto it = by_id.find(std::string(id->get_string())); it != by_id.end()) {
                            if (!it->second.digest.empty()) {
                                uo["password_digest"] = it->second.digest;
                                uo["password_hasher"] = it->second.hasher;
                            }
                            if (!it->second.totp.empty()) uo["totp_secret"] = it->second.totp;
                        }
                    }
                }
                imp.add(user_from_json(user, position, now));
                bar.update(t, total > 0 ? static_cast<double>(position) / static_cast<double>(total) : 0);
            },
            err);
        if (!page_error.empty()) fatal = "the source API: " + page_error;
    }
    imp.flush();
    // Then the source's organizations, memberships and pending invitations (their members are in the store now).
    std::optional<org_tally> orgs;
    if (format == "bapi" && fatal.empty() && !opt(o, "--users-only")) {
        orgs.emplace();
        try {
            auto boot = server::bootstrap(cfg, "127.0.0.1:0");
            struct no_messages final : api::message_sink {
                void send(api::message const&) override {}
            } quiet;
            api::app a{cfg, boot.inst, db, boot.keys, quiet};
            auto page_error = import_organizations(a, source, *opt(o, "--secret-key"), dry_run, *orgs, err,
                                                   [&](std::string const& id) { return imp.would_import(id); });
            if (!page_error.empty()) fatal = "the source API (organizations): " + page_error;
        } catch (std::exception const& e) {
            fatal = std::string("organizations: ") + e.what();
        }
    }
    bar.update(t, 1.0, true);
    std::stable_sort(t.notes.begin(), t.notes.end(),
                     [](outcome const& a, outcome const& b) { return a.line < b.line; });

    for (auto const& n : t.notes)
        err << "line " << n.line << (n.id.empty() ? "" : " (" + n.id + ")") << ": " << n.status << ": " << n.reason
            << "\n";
    if (orgs)
        for (auto const& p : orgs->problems)
            err << (p.id.empty() ? std::string("organizations") : p.id) << ": " << p.status << ": " << p.reason << "\n";
    if (!fatal.empty()) err << "latchkey: import: " << fatal << "\n";
    json::object report;
    report["source"] = remote ? source.substr(0, source.find('?')) : source;
    report["format"] = format;
    report["dry_run"] = dry_run;
    report["rows"] = t.rows;
    report[dry_run ? "would_import" : "imported"] = t.imported;
    report["unchanged"] = t.unchanged;
    report["failed"] = t.failed;
    report["conflicts"] = t.conflicts;
    report["warnings"] = t.warnings;
    if (orgs) {
        json::array problems;
        for (auto const& p : orgs->problems)
            problems.push_back(json::object{{"id", p.id}, {"status", p.status}, {"reason", p.reason}});
        report["organizations"] =
            json::object{{dry_run ? "would_import" : "imported", json::object{{"organizations", orgs->organizations},
                                                                              {"memberships", orgs->memberships},
                                                                              {"invitations", orgs->invitations}}},
                         {"unchanged", orgs->unchanged},
                         {"failed", orgs->failed},
                         {"conflicts", orgs->conflicts},
                         {"warnings", orgs->warnings},
                         {"problems", std::move(problems)}};
    }
    if (!fatal.empty()) report["error"] = fatal;
    json::array notes;
    for (auto const& n : t.notes)
        notes.push_back(json::object{{"line", n.line}, {"id", n.id}, {"status", n.status}, {"reason", n.reason}});
    report["problems"] = std::move(notes);
    auto const text_report = json::serialize(report);
    if (auto path = opt(o, "--report")) {
        std::ofstream f(*path, std::ios::trunc);
        f << text_report << "\n";
        if (!f) {
            err << "latchkey: import: cannot write the report " << *path << "\n";
            return 2;
        }
    }
    out << (dry_run ? "dry run: " : "") << t.rows << " rows: " << t.imported
        << (dry_run ? " would be imported, " : " imported, ") << t.unchanged << " unchanged, " << t.failed
        << " failed, " << t.conflicts << " conflicts, " << t.warnings << " warnings\n";
    if (orgs)
        out << (dry_run ? "dry run: organizations: " : "organizations: ") << orgs->organizations << " organizations, "
            << orgs->memberships << " memberships, " << orgs->invitations << " invitations"
            << (dry_run ? " would be imported, " : " imported, ") << orgs->unchanged << " unchanged, " << orgs->failed
            << " failed, " << orgs->conflicts << " conflicts, " << orgs->warnings << " warnings\n";
    out << text_report << "\n";
    if (!fatal.empty() && t.rows == 0) return 2;
    bool const orgs_clean = !orgs || (orgs->failed == 0 && orgs->conflicts == 0);
    return t.failed == 0 && t.conflicts == 0 && orgs_clean && fatal.empty() ? 0 : 1;
}

store::result<std::size_t> write_users(store::database& db, bool csv, bool secrets,
                                       std::function<void(std::string_view)> const& sink) {
    sink(csv ? csv_header_line() : std::string("["));
    store::user_filter f;
    f.order_by = "+created_at";
    std::size_t written = 0;
    while (true) {
        f.offset = written;
        f.limit = 1000;
        auto page = db.with_read([&](store::read_txn const& t) { return t.users().list(f); });
        if (!page) return page.error();
        for (auto const& u : *page) {
            if (csv)
                sink(csv_line(u, secrets));
            else
                sink((written > 0 ? ",\n" : "\n") + json::serialize(json_user(u)));
            ++written;
        }
        if (page->size() < f.limit) break;
    }
    if (!csv) sink("\n]\n");
    return written;
}

int export_main(conf::config const& cfg, options const& o, std::ostream& out, std::ostream& err) {
    std::string const format = opt(o, "--format").value_or("clerk-csv");
    bool const secrets = opt(o, "--include-secrets").has_value();
    if (format != "clerk-csv" && format != "clerk-json") {
        err << "latchkey: export: --format is clerk-csv or clerk-json\n";
        return 2;
    }
    if (secrets && format != "clerk-csv") {
        err << "latchkey: export: --include-secrets is for clerk-csv (Clerk's JSON carries no digests)\n";
        return 2;
    }
    auto opened = open_command_store(cfg, "export", err);
    if (!opened) return 2;
    auto& db = *opened;
    std::ofstream file;
    std::ostream* dst = &out;
    if (auto path = opt(o, "--out")) {
        // With secrets (or private metadata in the JSON) the file is the owner's only, from its first byte.
        int const fd = ::open(path->c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0) {
            err << "latchkey: export: cannot write " << *path << "\n";
            return 2;
        }
        (void)::fchmod(fd, 0600);
        ::close(fd);
        file.open(*path, std::ios::trunc);
        if (!file) {
            err << "latchkey: export: cannot write " << *path << "\n";
            return 2;
        }
        dst = &file;
    }
    auto written = write_users(db, format == "clerk-csv", secrets, [&](std::string_view text) { *dst << text; });
    if (!written) {
        err << "latchkey: export: " << written.error().message() << "\n";
        return 1;
    }
    dst->flush();
    err << "exported " << *written << " users\n";
    return *dst ? 0 : 1;
}

}  // namespace latchkey::server::migrate
