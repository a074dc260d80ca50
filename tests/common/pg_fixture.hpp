#pragma once
// A throwaway PostgreSQL server for tests (issue 16): initdb into a temp dir and pg_ctl on a free loopback port,
// started and stopped by the test itself. PostgreSQL refuses to run as root: when the tests run as root, the
// cluster belongs to the `postgres` system user (else `nobody`) and every pg_ctl runs through `runuser -u`.
// Without the PostgreSQL binaries (initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin) available() is false
// and the tests that need it skip with a message saying so.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace latchkey::test {

class test_postgres {
public:
    /// The directory holding initdb and pg_ctl, or "" when PostgreSQL is not installed.
    static std::string bin_dir() {
        namespace fs = std::filesystem;
        for (char const* d : {"/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin",
                              "/usr/local/bin", "/usr/bin"}) {
            std::error_code ec;
            if (fs::exists(fs::path(d) / "initdb", ec) && fs::exists(fs::path(d) / "pg_ctl", ec)) return d;
        }
        return {};
    }
    static bool available() { return !bin_dir().empty(); }

    /// initdb and start (throws std::runtime_error on failure).
    test_postgres() {
        bin_ = bin_dir();
        if (bin_.empty()) throw std::runtime_error("PostgreSQL binaries (initdb, pg_ctl) not found");
        std::string tmpl = (std::filesystem::temp_directory_path() / "latchkey-pg-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        dir_ = tmpl;
        if (::geteuid() == 0) {
            char const* user = ::getpwnam("postgres") != nullptr ? "postgres" : "nobody";
            as_ = std::string("runuser -u ") + user + " -- ";
            struct passwd const* pw = ::getpwnam(user);
            if (pw == nullptr || ::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0)
                throw std::runtime_error("cannot hand the PostgreSQL dir to " + std::string(user));
        }
        port_ = free_port();
        run(as_ + bin_ + "/initdb -D " + dir_ + "/data -A trust -U latchkey --no-sync -E UTF8 >" + dir_ +
            "/initdb.log 2>&1");
        start();
        url_ = "postgresql://latchkey@127.0.0.1:" + std::to_string(port_) + "/postgres";
    }
    ~test_postgres() {
        std::system((as_ + bin_ + "/pg_ctl -D " + dir_ + "/data -m immediate -w stop >/dev/null 2>&1").c_str());
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    test_postgres(test_postgres const&) = delete;
    test_postgres& operator=(test_postgres const&) = delete;

    /// Starts (again) on the same port; returns once it accepts connections.
    void start() {
        run(as_ + bin_ + "/pg_ctl -D " + dir_ + "/data -l " + dir_ + "/data/server.log -w -t 30 -o \"-p " +
            std::to_string(port_) + " -k " + dir_ + " -c listen_addresses=127.0.0.1 -c fsync=off " +
            "-c synchronous_commit=off -c full_page_writes=off\" start >/dev/null 2>&1");
    }
    /// Stops it (fast shutdown: connections are cut).
    void stop() { run(as_ + bin_ + "/pg_ctl -D " + dir_ + "/data -m fast -w -t 30 stop >/dev/null 2>&1"); }

    std::string const& url() const { return url_; }
    unsigned short port() const { return port_; }
    /// Runs SQL through psql when present (test set-up only).
    void sql(std::string const& statement) const {
        run(bin_ + "/psql -q -X -v ON_ERROR_STOP=1 '" + url_ + "' -c \"" + statement + "\" >/dev/null");
    }

private:
    static void run(std::string const& cmd) {
        if (std::system(cmd.c_str()) != 0) throw std::runtime_error("command failed: " + cmd);
    }
    static unsigned short free_port() {
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = 0;
        socklen_t len = sizeof a;
        if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
            if (fd >= 0) ::close(fd);
            throw std::runtime_error("no free port");
        }
        ::close(fd);
        return ntohs(a.sin_port);
    }
    std::string bin_;
    std::string dir_;
    std::string as_;
    std::string url_;
    unsigned short port_ = 0;
};

}  // namespace latchkey::test
