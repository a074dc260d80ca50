#pragma once
// The latchkey binary as a child process: a command run with its standard streams on files (the operator commands'
// tests), and `serve` on 127.0.0.1 port 0 read up to its JSON "listening" line (which names
// the ports; the integration fixture's spawn_server and bench/import_bench.cpp). Header-only (POSIX spawn), so
// bench/ takes it without the test fixture library.
#include <string>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

namespace latchkey::test {

/// Starts `args` (args[0] the binary) with an empty environment: stdin from `stdin_path` (/dev/null when empty),
/// stdout to `stdout_path` and stderr to `stderr_path` when given (truncated; else inherited). Returns the pid, or
/// -1 when it could not be started.
inline int spawn_binary(std::vector<std::string> args, std::string const& stdin_path = {},
                        std::string const& stdout_path = {}, std::string const& stderr_path = {}) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    char* envp[] = {nullptr};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, stdin_path.empty() ? "/dev/null" : stdin_path.c_str(), O_RDONLY,
                                     0);
    if (!stdout_path.empty())
        posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (!stderr_path.empty())
        posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid = -1;
    int const rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp);
    posix_spawn_file_actions_destroy(&fa);
    return rc == 0 ? pid : -1;
}

/// Kills (SIGKILL) and reaps the child `pid` on destruction; set `pid` to 0 once the test reaped it itself.
struct child_reaper {
    int pid;
    ~child_reaper() {
        if (pid <= 0) return;  // never kill(-1)
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    }
};

struct serve_child {
    int pid = -1;      ///< -1 when it could not be started
    std::string line;  ///< its first stdout line ("" if it printed none)
};

/// Starts `bin serve --listen 127.0.0.1:0 --backend-listen 127.0.0.1:0 --data-dir data_dir extra_args...` with
/// exactly the environment `env` ("NAME=value"); returns once it printed its first line (or closed stdout).
inline serve_child spawn_serve(std::string const& bin, std::string const& data_dir,
                               std::vector<std::string> const& extra_args, std::vector<std::string> env) {
    serve_child c;
    int out[2];
    if (::pipe(out) != 0) return c;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    std::vector<std::string> args{bin,           "serve",      "--listen", "127.0.0.1:0", "--backend-listen",
                                  "127.0.0.1:0", "--data-dir", data_dir};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_t pid = -1;
    int const rc = posix_spawn(&pid, bin.c_str(), &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    ::close(out[1]);
    if (rc != 0) {
        ::close(out[0]);
        return c;
    }
    c.pid = pid;
    // Up to the "listening" line: a warning may come before it (e.g. a shared store unreachable at start).
    for (bool more = true; more && c.line.find("\"event\":\"listening\"") == std::string::npos;) {
        c.line.clear();
        char ch = 0;
        while ((more = ::read(out[0], &ch, 1) == 1) && ch != '\n') c.line.push_back(ch);
    }
    ::close(out[0]);
    return c;
}

}  // namespace latchkey::test
