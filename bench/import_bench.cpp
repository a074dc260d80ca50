// `latchkey import` throughput: a Clerk Dashboard CSV of N users (bcrypt digests, stored as given and never
// checked at import), imported in batched write txns into a fresh durable LMDB store, in this process.
// Reports users/s and the process's peak RSS. Usage: latchkey-import-bench [--users N] [--million] [--batch B]
#include "conf/config.hpp"
#include "server/migrate/import_cli.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include <sys/resource.h>
#include <unistd.h>

int main(int argc, char** argv) {
    std::size_t users = 100000;
    std::string batch = "1000";
    for (int i = 1; i < argc; ++i) {
        std::string const a = argv[i];
        if (a == "--million")
            users = 1000000;
        else if (a == "--users" && i + 1 < argc)
            users = std::stoul(argv[++i]);
        else if (a == "--batch" && i + 1 < argc)
            batch = argv[++i];
    }
    char tmpl[] = "/tmp/latchkey-import-bench-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr)
        return 1;
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
    auto const csv_bytes = std::filesystem::file_size(csv);
    latchkey::conf::config cfg;
    cfg.data_dir = dir + "/data";
    cfg.map_size = std::uint64_t{1} << 34;
    std::ostringstream out, err;
    auto const t0 = std::chrono::steady_clock::now();
    int const rc = latchkey::server::migrate::import_main(cfg, csv, {{"--batch", batch}}, out, err);
    auto const secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    std::printf("import of %zu users (CSV %.1f MB, batch %s): exit %d, %.2f s, %.0f users/s, peak RSS %.1f MB\n", users,
                static_cast<double>(csv_bytes) / 1e6, batch.c_str(), rc, secs, static_cast<double>(users) / secs,
                static_cast<double>(ru.ru_maxrss) / 1024.0);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return rc;
}
