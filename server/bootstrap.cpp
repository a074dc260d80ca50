#include "server/instance.hpp"

#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "crypto/random.hpp"
#include "server/api/site.hpp"

#include <sys/stat.h>
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace latchkey::server {

namespace fs = std::filesystem;

std::string make_publishable_key(bool production, std::string_view host) {
    std::string text(host);
    text += '$';
    std::string b64 = crypto::base64_encode(text);
    while (!b64.empty() && b64.back() == '=') b64.pop_back();
    return (production ? "pk_live_" : "pk_test_") + b64;
}

bool dev_browser_host(std::string_view host) {
    host = host.substr(0, host.find(':'));
    // packages/shared/src/keys.ts (isDevelopmentFromPublishableKey's list of dev-or-staging hosts).
    for (std::string_view s : {".lcl.dev", ".stg.dev", ".lclstage.dev", ".stgstage.dev", ".dev.lclclerk.com",
                               ".stg.lclclerk.com", ".accounts.lclclerk.com", "accountsstage.dev", "accounts.dev"})
        if (host.ends_with(s)) return true;
    return false;
}

std::string cookie_suffix_for(std::string_view publishable_key) {
    return crypto::base64url_encode(crypto::sha1(publishable_key)).substr(0, 8);
}

namespace {

std::string read_file(fs::path const& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + p.string());
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// Writes a secret file with mode 0600, atomically (tmp + rename).
void write_secret(fs::path const& p, std::string_view data) {
    fs::path tmp = p;
    tmp += ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw std::runtime_error("cannot write " + tmp.string());
        out.write(data.data(), static_cast<std::streamsize>(data.size()));
        if (!out) throw std::runtime_error("cannot write " + tmp.string());
    }
    ::chmod(tmp.c_str(), 0600);
    fs::rename(tmp, p);
}

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s;
}

/// Loads the signing keys in <data>/keys (name order = age; the newest is active), generating one if none.
crypto::keyring load_keys(fs::path const& dir, std::string const& instance_id) {
    fs::create_directories(dir);
    ::chmod(dir.c_str(), 0700);
    std::vector<fs::path> files;
    for (auto const& e : fs::directory_iterator(dir))
        if (e.is_regular_file() && e.path().extension() == ".pem") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    if (files.empty()) {
        auto k = crypto::signing_key::generate_rsa(2048);
        if (!k) throw std::runtime_error("cannot generate the signing key: " + k.error().message());
        fs::path p = dir / ("0001-" + instance_id + ".pem");
        write_secret(p, k->private_pem());
        files.push_back(p);
    }
    crypto::keyring ring;
    for (std::size_t i = 0; i < files.size(); ++i) {
        auto k = crypto::signing_key::from_pem(read_file(files[i]));
        if (!k) throw std::runtime_error("cannot load signing key " + files[i].filename().string());
        // The file name after the "NNNN-" prefix is the kid (the first key's kid is the instance id).
        std::string stem = files[i].stem().string();
        auto dash = stem.find('-');
        k->set_kid(dash == std::string::npos ? stem : stem.substr(dash + 1));
        ring.add(std::move(*k), i + 1 == files.size());
    }
    return ring;
}

}  // namespace

bootstrap_result bootstrap(conf::config const& cfg, std::string_view fapi_bound) {
    fs::path data(cfg.data_dir);
    std::error_code ec;
    fs::create_directories(data, ec);
    if (ec) throw std::runtime_error("data_dir: cannot create '" + cfg.data_dir + "': " + ec.message());
    ::chmod(data.c_str(), 0700);

    bootstrap_result r;
    instance& in = r.inst;
    in.production = cfg.instance_type == "production";

    fs::path id_file = data / "instance_id";
    if (fs::exists(id_file)) {
        in.id = trim(read_file(id_file));
    } else {
        in.id = crypto::new_id("ins");
        write_secret(id_file, in.id + "\n");
    }

    fs::path code_key_file = data / "code_key";
    if (fs::exists(code_key_file)) {
        in.code_key = read_file(code_key_file);
    } else {
        std::string k(32, '\0');
        crypto::random_bytes({reinterpret_cast<unsigned char*>(k.data()), k.size()});
        write_secret(code_key_file, k);
        in.code_key = k;
    }
    if (in.code_key.size() < 32) throw std::runtime_error("data_dir: code_key is damaged (delete it to regenerate)");
    in.seal_key = load_seal_key(cfg.data_dir);

    if (!cfg.secret_keys.empty()) {
        in.secret_keys = cfg.secret_keys;
    } else {
        fs::path sk_file = data / "secret_key";
        if (fs::exists(sk_file)) {
            in.secret_keys.push_back(trim(read_file(sk_file)));
        } else {
            std::string sk = (in.production ? "sk_live_" : "sk_test_") + crypto::random_token(30);
            std::replace(sk.begin() + 8, sk.end(), '-', 'A');
            write_secret(sk_file, sk + "\n");
            in.secret_keys.push_back(sk);
        }
    }

    in.frontend_api = cfg.frontend_api.empty() ? "http://" + std::string(fapi_bound) : cfg.frontend_api;
    while (!in.frontend_api.empty() && in.frontend_api.back() == '/') in.frontend_api.pop_back();
    in.https = in.frontend_api.starts_with("https://");
    std::string_view rest = std::string_view(in.frontend_api).substr(in.https ? 8 : 7);
    auto slash = rest.find('/');
    in.fapi_host = std::string(rest.substr(0, slash));
    in.fapi_path_prefix = slash == std::string_view::npos ? "" : std::string(rest.substr(slash));
    in.fapi_scheme = in.https ? "https" : "http";
    std::string bare_host = in.fapi_host;  // lowercase, without the port
    in.fapi_port = in.https ? 443 : 80;
    if (auto colon = bare_host.rfind(':');
        colon != std::string::npos && bare_host.find(']', colon) == std::string::npos) {
        in.fapi_port = static_cast<std::uint16_t>(std::stoul(bare_host.substr(colon + 1)));
        bare_host.resize(colon);
    }
    for (char& c : bare_host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    // The site: the app domain the FAPI serves (clerk.example.com -> example.com), or the configured one.
    if (!cfg.app_domain.empty()) {
        if (site::is_public_suffix(cfg.app_domain) || site::is_ip_literal(cfg.app_domain))
            throw std::runtime_error("app_domain: '" + cfg.app_domain + "' is a public suffix, not a site");
        if (!site::within(bare_host, cfg.app_domain))
            throw std::runtime_error("app_domain: the frontend API host '" + bare_host + "' is not on '" +
                                     cfg.app_domain + "' (its cookies could not reach the app)");
        in.site_domain = cfg.app_domain;
    } else if (dev_browser_host(bare_host)) {
        // Clerk's shared development domains are other people's sites: none of theirs is ours.
    } else if (auto d = site::registrable_domain(bare_host)) {
        in.site_domain = *d;
    }
    // Development: every browser on the dev-browser path. A key for a host where clerk-js skips it would leave
    // @clerk/backend without the dev browser it demands (dev-browser-missing) and @clerk/ui without one for its
    // cross-origin links (Missing dev browser), so the key names a dev-browser host and the SDKs reach the FAPI
    // through proxyUrl. The label is stable per instance (its id), so the key and the cookie suffix are too.
    in.key_host = in.fapi_host;
    if (!in.production && !dev_browser_host(in.fapi_host))
        in.key_host = "latchkey-" + crypto::hex_encode(crypto::sha256(in.id)).substr(0, 12) + ".lcl.dev";
    if (in.frontend_api != "https://" + in.key_host) in.proxy_url = in.frontend_api;
    in.issuer = "https://" + in.key_host;
    in.publishable_key = make_publishable_key(in.production, in.key_host);
    in.cookie_suffix = cookie_suffix_for(in.publishable_key);

    r.keys = crypto::live_keyring(load_keys(data / "keys", in.id));
    return r;
}

namespace {
std::vector<fs::path> key_files(fs::path const& dir) {
    std::vector<fs::path> files;
    if (!fs::exists(dir)) return files;
    for (auto const& e : fs::directory_iterator(dir))
        if (e.is_regular_file() && e.path().extension() == ".pem") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    return files;
}
}  // namespace

crypto::seal_key load_seal_key(std::string const& data_dir) {
    fs::path const file = fs::path(data_dir) / "seal_key";
    if (!fs::exists(file)) {
        auto k = crypto::seal_key::generate();
        write_secret(file, k.bytes());
        return k;
    }
    auto k = crypto::seal_key::from_bytes(read_file(file));
    if (!k)
        throw std::runtime_error("data_dir: seal_key is damaged (it seals the TOTP secrets: restore it from a backup)");
    return *k;
}

std::string rotate_signing_key(std::string const& data_dir) {
    fs::path dir = fs::path(data_dir) / "keys";
    fs::create_directories(dir);
    auto files = key_files(dir);
    unsigned next = 1;
    if (!files.empty()) next = static_cast<unsigned>(std::stoul(files.back().filename().string().substr(0, 4))) + 1;
    auto k = crypto::signing_key::generate_rsa(2048);
    if (!k) throw std::runtime_error("cannot generate a signing key: " + k.error().message());
    std::string kid = crypto::new_id("ins");
    char prefix[8];
    std::snprintf(prefix, sizeof prefix, "%04u-", next);
    write_secret(dir / (std::string(prefix) + kid + ".pem"), k->private_pem());
    return kid;
}

crypto::keyring load_signing_keys(std::string const& data_dir, std::string const& instance_id) {
    return load_keys(fs::path(data_dir) / "keys", instance_id);
}

void retire_signing_key(std::string const& data_dir, std::string const& kid) {
    auto files = key_files(fs::path(data_dir) / "keys");
    for (std::size_t i = 0; i < files.size(); ++i) {
        std::string stem = files[i].stem().string();
        if (stem.substr(stem.find('-') + 1) != kid) continue;
        if (i + 1 == files.size()) throw std::runtime_error("keys: '" + kid + "' is the active key; rotate first");
        fs::remove(files[i]);
        return;
    }
    throw std::runtime_error("keys: no signing key with kid '" + kid + "'");
}

}  // namespace latchkey::server
