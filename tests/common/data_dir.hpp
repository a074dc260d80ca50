#pragma once
// A data dir as the server's first start leaves it (an instance id and an RSA-2048 signing key, in the files and
// modes server/bootstrap.cpp writes), with the key generated once per process: a generation costs 0.2-0.8 s, which
// every test case would pay. The integration fixture (tests/common) and the handler harness (tests/handler) both
// start from it; the other data-dir files (code_key, the store) cost nothing and are left to the start.
#include "crypto/keys.hpp"
#include "crypto/random.hpp"

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace latchkey::test {

/// The process's signing key (PEM), generated on first use.
inline std::string const& process_signing_key_pem() {
    static std::string const pem = [] {
        auto k = crypto::signing_key::generate_rsa(2048);
        if (!k) throw std::runtime_error("fixture signing key: " + k.error().message());
        return k->private_pem();
    }();
    return pem;
}

/// Writes a fresh instance id and the process's signing key into the empty dir `data_dir`.
inline void seed_data_dir(std::string const& data_dir) {
    namespace fs = std::filesystem;
    auto write_0600 = [](fs::path const& p, std::string const& data) {
        std::ofstream out(p, std::ios::binary | std::ios::trunc);
        out << data;
        out.close();
        if (!out) throw std::runtime_error("seed_data_dir: cannot write " + p.string());
        fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write);
    };
    auto const id = crypto::new_id("ins");
    write_0600(fs::path(data_dir) / "instance_id", id + "\n");
    fs::path keys = fs::path(data_dir) / "keys";
    fs::create_directories(keys);
    fs::permissions(keys, fs::perms::owner_all);
    write_0600(keys / ("0001-" + id + ".pem"), process_signing_key_pem());
}

}  // namespace latchkey::test
