// `latchkey import` throughput: a Clerk Dashboard CSV of N users (bcrypt digests, stored as given and never
// checked at import), imported in batched write txns into a fresh durable LMDB store.
// Each import runs in a child process, so its peak RSS is its own.
//
// With `--server BIN` (the latchkey binary) and `wrk` on the PATH, two more rows, same run: a latchkey server on
// the import's data dir answering BAPI `GET /v1/users?limit=10` (which reads the store the import writes) under
// wrk, first alone, then while the same import runs into that store — the import's users/s beside the server's
// requests/s and latency p99, against the rows without the other.
//
// Usage: latchkey-import-bench [--users N] [--million] [--batch B] [--server BIN]
#include "conf/config.hpp"
#include "server/migrate/import_cli.hpp"
#include "tests/common/spawn.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace {

struct import_run {
    int rc = -1;
    double secs = 0;
    double peak_rss_mb = 0;
};

/// Imports `csv` into `data_dir` in a child process.
import_run run_import(std::string const& csv, std::string const& data_dir, std::string const& batch) {
    auto const t0 = std::chrono::steady_clock::now();
    std::fflush(stdout);
    pid_t const pid = ::fork();
    if (pid == 0) {
        latchkey::conf::config cfg;
        cfg.data_dir = data_dir;
        cfg.map_size = std::uint64_t{1} << 34;
        std::ostringstream out, err;
        int const rc = latchkey::server::migrate::import_main(cfg, csv, {{"--batch", batch}}, out, err);
        if (rc != 0) std::fputs(err.str().substr(0, 2000).c_str(), stderr);
        std::_Exit(rc);
    }
    import_run r;
    int status = 0;
    rusage ru{};
    if (pid > 0 && ::wait4(pid, &status, 0, &ru) == pid) {
        r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
        r.peak_rss_mb = static_cast<double>(ru.ru_maxrss) / 1024.0;
    }
    r.secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

struct server_proc {
    pid_t pid = -1;
    unsigned short bapi = 0;
};

/// `BIN serve` on 127.0.0.1 port 0 with `data_dir`; its first stdout line names the ports.
std::optional<server_proc> start_server(std::string const& bin, std::string const& data_dir,
                                        std::string const& secret) {
    auto child = latchkey::test::spawn_serve(bin, data_dir, {},
                                             {"LATCHKEY_SECRET_KEY=" + secret, "LATCHKEY_ACCESS_LOG=false",
                                              "LATCHKEY_THREADS=1", "LATCHKEY_MAP_SIZE=17179869184"});
    if (child.pid < 0) return std::nullopt;
    server_proc s;
    s.pid = child.pid;
    auto const& line = child.line;
    auto const p = line.find("\"bapi\":\"");
    if (p == std::string::npos) return std::nullopt;
    auto const colon = line.find(':', p + 8);
    s.bapi = static_cast<unsigned short>(std::atoi(line.c_str() + colon + 1));
    return s;
}

struct wrk_result {
    double rps = 0;
    std::string p50, p99;
};

/// wrk -t1 -c8 for `secs` seconds against `url` with the secret key; parses requests/s and the latency percentiles.
wrk_result run_wrk(std::string const& url, std::string const& secret, int secs) {
    std::string const cmd = "wrk -t1 -c8 -d" + std::to_string(secs) + "s --latency -H 'Authorization: Bearer " +
                            secret + "' '" + url + "' 2>&1";
    wrk_result r;
    FILE* f = ::popen(cmd.c_str(), "r");
    if (f == nullptr) return r;
    char buf[512];
    while (std::fgets(buf, sizeof buf, f) != nullptr) {
        std::string const l = buf;
        std::istringstream in(l);
        std::string a, b;
        in >> a >> b;
        if (a == "Requests/sec:")
            r.rps = std::atof(b.c_str());
        else if (a == "50%")
            r.p50 = b;
        else if (a == "99%")
            r.p99 = b;
    }
    ::pclose(f);
    return r;
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t users = 100000;
    std::string batch = "1000";
    std::string server_bin;
    for (int i = 1; i < argc; ++i) {
        std::string const a = argv[i];
        if (a == "--million")
            users = 1000000;
        else if (a == "--users" && i + 1 < argc)
            users = std::stoul(argv[++i]);
        else if (a == "--batch" && i + 1 < argc)
            batch = argv[++i];
        else if (a == "--server" && i + 1 < argc)
            server_bin = argv[++i];
    }
    char tmpl[] = "/tmp/latchkey-import-bench-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return 1;
    std::string const dir = tmpl;
    std::string const csv = dir + "/users.csv";
    {
        std::ofstream f(csv, std::ios::binary);
        f << "id,first_name,last_name,username,primary_email_address,primary_phone_number,verified_email_addresses,"
             "unverified_email_addresses,verified_phone_numbers,unverified_phone_numbers,totp_secret,password_digest,"
             "password_hasher\n";
        for (std::size_t i = 0; i < users; ++i) {
            std::string const id = "user_2Bench" + std::to_string(10000000 + i);
            f << id << ",First,Last,," << id << "@example.com,," << id << "@example.com,,,,,"
              << "$2a$10$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW,bcrypt\n";
        }
    }
    auto const csv_mb = static_cast<double>(std::filesystem::file_size(csv)) / 1e6;
    std::printf("import of %zu users (CSV %.1f MB, batch %s, bcrypt digests stored, not checked)\n\n", users, csv_mb,
                batch.c_str());
    std::printf("| run | import users/s | import s | import peak RSS | server req/s | server p50 | server p99 |\n");
    std::printf("|---|---|---|---|---|---|---|\n");
    auto const alone = run_import(csv, dir + "/alone", batch);
    std::printf("| import alone | %.0f | %.2f | %.1f MB | - | - | - |\n", static_cast<double>(users) / alone.secs,
                alone.secs, alone.peak_rss_mb);
    int rc = alone.rc;
    if (!server_bin.empty()) {
        std::string const secret = "sk_test_importbenchimportbench0001";
        std::string const data = dir + "/served";
        auto s = start_server(server_bin, data, secret);
        if (!s) {
            std::fprintf(stderr, "cannot start %s\n", server_bin.c_str());
            rc = 1;
        } else {
            std::string const url = "http://127.0.0.1:" + std::to_string(s->bapi) + "/v1/users?limit=10";
            // Long enough to cover the import slowed down by the load (about twice the time alone).
            int const secs = std::max(3, static_cast<int>(alone.secs * 2) + 2);
            auto const base = run_wrk(url, secret, 3);
            std::printf("| server alone (wrk -c8, BAPI GET /v1/users?limit=10) | - | - | - | %.0f | %s | %s |\n",
                        base.rps, base.p50.c_str(), base.p99.c_str());
            std::fflush(stdout);
            pid_t const w = ::fork();
            if (w == 0) {
                // The load runs in its own process for the whole import (and a little after it).
                auto r = run_wrk(url, secret, secs);
                std::printf("| server during the import (wrk %d s) | - | - | - | %.0f | %s | %s |\n", secs, r.rps,
                            r.p50.c_str(), r.p99.c_str());
                std::fflush(stdout);
                std::_Exit(0);
            }
            ::usleep(300 * 1000);
            auto const busy = run_import(csv, data, batch);
            ::waitpid(w, nullptr, 0);
            std::printf("| import while the server answers | %.0f | %.2f | %.1f MB | - | - | - |\n",
                        static_cast<double>(users) / busy.secs, busy.secs, busy.peak_rss_mb);
            ::kill(s->pid, SIGTERM);
            ::waitpid(s->pid, nullptr, 0);
            if (busy.rc != 0) rc = busy.rc;
        }
    }
    std::fflush(stdout);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return rc;
}
