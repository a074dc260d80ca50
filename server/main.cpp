// latchkey: a self-hosted auth edge server speaking Clerk's Frontend and Backend APIs.
#include "server/run.hpp"

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    return latchkey::server::run_main(args);
}
