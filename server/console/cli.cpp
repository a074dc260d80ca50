#include "server/console/cli.hpp"

#include "conf/load.hpp"
#include "server/api/console/console.hpp"
#include "store/lmdb/open.hpp"

#include <boost/json/serialize.hpp>

#include <charconv>
#include <chrono>
#include <ostream>
#include <string_view>

namespace latchkey::server::console_cli {

namespace json = boost::json;

namespace {

constexpr std::string_view value_options[] = {"--operator", "--base-url", "--name", "--role", "--password", "--limit"};

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string opt(std::vector<std::pair<std::string, std::string>> const& o, std::string_view name) {
    for (auto const& [k, v] : o)
        if (k == name) return v;
    return {};
}

bool has(std::vector<std::pair<std::string, std::string>> const& o, std::string_view name) {
    for (auto const& [k, v] : o)
        if (k == name) return true;
    return false;
}

/// The URL the backend listener answers on, from the config (a wildcard address becomes the loopback one).
std::string base_url(conf::config const& cfg) {
    auto hp = conf::split_host_port(cfg.backend_listen);
    std::string host = hp ? hp->first : "127.0.0.1";
    if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
    if (host == "::")
        host = "[::1]";
    else if (host.find(':') != std::string::npos && host.front() != '[')
        host = "[" + host + "]";
    return std::string(cfg.tls_cert.empty() ? "http://" : "https://") + host + ":" +
           std::to_string(hp ? hp->second : 0);
}

}  // namespace

bool is_value_option(std::string const& flag) {
    for (auto o : value_options)
        if (o == flag) return true;
    return false;
}

bool is_switch_option(std::string const& flag) { return flag == "--totp"; }

int main(conf::config const& cfg, std::string const& cmd, std::string const& sub,
         std::vector<std::pair<std::string, std::string>> const& o, std::ostream& out, std::ostream& err) {
    store::lmdb::options so;
    so.dir = cfg.data_dir + "/db";
    so.map_size = cfg.map_size;
    so.durable = true;
    auto opened = store::lmdb::open(so);
    if (!opened) {
        err << "latchkey: data_dir: cannot open the store: " << opened.error().message() << "\n";
        return 1;
    }
    auto& db = **opened;
    if (cmd == "console-link") {
        std::string name = opt(o, "--operator");
        if (name.empty()) name = "owner";
        auto token = api::console::create_link(db, name, now_ms());
        if (!token) {
            err << "latchkey: console-link: "
                << (token.error() == store::make_error_code(store::errc::not_found)
                        ? "no operator named '" + name + "' (see `latchkey operators add`)"
                        : token.error().message())
                << "\n";
            return 1;
        }
        std::string base = opt(o, "--base-url");
        if (base.empty()) base = base_url(cfg);
        while (!base.empty() && base.back() == '/') base.pop_back();
        out << base << "/console/link?token=" << *token << "\n";
        out.flush();
        err << "latchkey: this link signs in once, within " << api::console::link_ttl_ms / 60000 << " minutes\n";
        return 0;
    }
    if (cmd == "operators" && sub == "add") {
        std::string const name = opt(o, "--name");
        std::string role = opt(o, "--role");
        if (role.empty()) role = "viewer";
        if (name.empty() || name.size() > 128 || !api::console::valid_role(role)) {
            err << "latchkey: operators add: --name NAME and --role admin|support|viewer are required\n";
            return 2;
        }
        std::string const password = opt(o, "--password");
        if (!password.empty() && password.size() < 12) {
            err << "latchkey: operators add: the password needs 12 characters or more\n";
            return 2;
        }
        std::string const secret = has(o, "--totp") ? api::console::new_totp_secret() : std::string{};
        auto r = api::console::add_operator(db, name, role, password, secret, now_ms());
        if (!r) {
            err << "latchkey: operators add: "
                << (r.error() == store::make_error_code(store::errc::key_exists) ? "the name is taken"
                                                                                 : r.error().message())
                << "\n";
            return 1;
        }
        out << json::serialize(api::console::operator_with_secret(*r, secret)) << "\n";
        return 0;
    }
    if (cmd == "operators" && sub == "list") {
        auto all = db.with_read([](store::read_txn& t) { return t.console().operators(); });
        if (!all) {
            err << "latchkey: operators list: " << all.error().message() << "\n";
            return 1;
        }
        for (auto const& op : *all) out << json::serialize(api::console::operator_json(op)) << "\n";
        return 0;
    }
    if (cmd == "audit") {
        std::size_t limit = 100;
        if (auto l = opt(o, "--limit"); !l.empty()) {
            auto [p, ec] = std::from_chars(l.data(), l.data() + l.size(), limit);
            if (ec != std::errc{} || p != l.data() + l.size() || limit == 0) {
                err << "latchkey: audit: --limit takes a positive number\n";
                return 2;
            }
        }
        auto entries = db.with_read([&](store::read_txn& t) { return t.console().audit(limit); });
        if (!entries) {
            err << "latchkey: audit: " << entries.error().message() << "\n";
            return 1;
        }
        for (auto const& e : *entries) out << json::serialize(api::console::audit_json(e)) << "\n";
        return 0;
    }
    err << "latchkey: " << cmd << ": expected console-link, operators add|list or audit\n";
    return 2;
}

}  // namespace latchkey::server::console_cli
