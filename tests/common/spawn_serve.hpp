#pragma once
// `latchkey serve` as a child process on 127.0.0.1 port 0 (both listeners), read up to its first stdout line (the
// JSON "listening" line that names the ports): the integration fixture's spawn_server and bench/import_bench.cpp
// start the binary this way. Header-only (POSIX spawn), so bench/ takes it without the test fixture library.
#include <string>
#include <vector>

#include <spawn.h>
#include <unistd.h>

namespace latchkey::test {

struct serve_child {
    int pid = -1;       ///< -1 when it could not be started
    std::string line;   ///< its first stdout line ("" if it printed none)
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
    char ch = 0;
    while (::read(out[0], &ch, 1) == 1 && ch != '\n') c.line.push_back(ch);
    ::close(out[0]);
    return c;
}

}  // namespace latchkey::test
