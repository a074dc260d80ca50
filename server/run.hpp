#pragma once
// The whole process behind `latchkey serve` and `latchkey keys`, callable from tests (main.cpp only
// forwards argv here).
#include "conf/config.hpp"

#include <functional>
#include <string>
#include <vector>

namespace latchkey::server {

/// `latchkey <args...>`; returns the process exit code. 2 = bad configuration.
int run_main(std::vector<std::string> const& args);

}  // namespace latchkey::server
