#pragma once
// The command line of the bench tools (latchkey-seed, latchkey-idle): `--flag value` pairs read in order, strict
// whole numbers, and one usage line on stderr with exit status 2 for anything else.
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace latchkey::bench {

class cli {
public:
    /// `synopsis` is what follows "usage: <tool> ".
    cli(char const* tool, char const* synopsis, int argc, char** argv)
        : tool_(tool), synopsis_(synopsis), argc_(argc), argv_(argv) {}

    [[noreturn]] void usage(char const* why) const {
        std::fprintf(stderr, "%s: %s\nusage: %s %s\n", tool_, why, tool_, synopsis_);
        std::exit(2);
    }
    /// The next flag (advancing past it), or empty at the end.
    std::string_view flag() { return i_ + 1 < argc_ ? std::string_view(argv_[++i_]) : std::string_view(); }
    /// The value after the flag just read; usage() when there is none.
    std::string_view value() {
        if (i_ + 1 >= argc_) usage("missing value");
        return argv_[++i_];
    }
    /// The value as a whole number; usage() when it is not one.
    std::size_t number() {
        std::string const t(value());
        char* end = nullptr;
        auto const v = std::strtoull(t.c_str(), &end, 10);
        if (end == t.c_str() || *end != '\0') usage("not a number");
        return static_cast<std::size_t>(v);
    }

private:
    char const* tool_;
    char const* synopsis_;
    int argc_;
    char** argv_;
    int i_ = 0;
};

}  // namespace latchkey::bench
