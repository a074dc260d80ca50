#pragma once
// Builds a config from command-line flags, the environment and an optional JSON file.
// Precedence: flag > environment > file > default.
#include "conf/config.hpp"

#include <boost/system/result.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::conf {

/// A configuration problem, naming the setting (flag / env var / JSON key) it concerns.
struct load_error {
    std::string setting;
    std::string message;
    std::string what() const { return setting + ": " + message; }
};

[[noreturn]] void throw_exception_from_error(load_error const& e, boost::source_location const& loc);

template <class T>
using load_result = boost::system::result<T, load_error>;

/// Looks up an environment variable; returns nullopt when unset.
using env_lookup = std::function<std::optional<std::string>(std::string_view)>;

/// The process environment.
env_lookup process_env();

/// Parses `args` (flags after the subcommand, e.g. {"--listen", "127.0.0.1:0"} or "--listen=..."),
/// then the environment, then the JSON file named by --config / LATCHKEY_CONFIG. Validates the result.
load_result<config> load(std::vector<std::string> const& args, env_lookup const& env);

/// Applies a JSON config document (text) onto `c`. Unknown keys and wrong types are errors.
std::optional<load_error> apply_json(config& c, std::string_view json_text);

/// Validates cross-field rules (addresses, instance type, URLs, keys, limits).
std::optional<load_error> validate(config const& c);

/// Splits "host:port"; port may be 0. Brackets allowed for IPv6 ("[::1]:8080").
std::optional<std::pair<std::string, unsigned short>> split_host_port(std::string_view s);

/// The non-empty items of a list setting or cell, split on any of `separators`, each trimmed of spaces.
std::vector<std::string> split_list(std::string_view s, std::string_view separators = ",");

/// Help text for `latchkey serve --help` (flags and env vars).
std::string usage();

}  // namespace latchkey::conf
