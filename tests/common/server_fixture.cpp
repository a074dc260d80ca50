#include "tests/common/server_fixture.hpp"
#include "tests/common/flows.hpp"

#include "crypto/keys.hpp"
#include "crypto/random.hpp"
#include "tests/common/clerk_js.hpp"
#include "tests/common/data_dir.hpp"
#include "tests/common/sample_records.hpp"
#include "tests/common/spawn.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>

#include <spawn.h>
#include <unistd.h>

namespace latchkey::test {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

tmp_dir::tmp_dir() {
    std::random_device rd;
    auto base = std::filesystem::temp_directory_path();
    for (int i = 0; i < 100; ++i) {
        auto p = base / ("latchkey-test-" + std::to_string(rd()) + std::to_string(rd()));
        std::error_code ec;
        if (std::filesystem::create_directory(p, ec)) {
            path = p.string();
            return;
        }
    }
    throw std::runtime_error("cannot create a temp dir");
}

tmp_dir::~tmp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
}

conf::config test_config(std::string const& data_dir) {
    conf::config c;
    c.listen = "127.0.0.1:0";
    c.backend_listen = "127.0.0.1:0";
    c.data_dir = data_dir;
    c.threads = 2;
    c.hash_threads = 1;
    c.map_size = 256ull << 20;
    c.access_log = false;
    c.test_mode = true;
    c.secret_keys = {"sk_test_integrationintegration0001"};
    c.header_timeout = std::chrono::milliseconds(2000);
    c.idle_timeout = std::chrono::milliseconds(5000);
    c.shutdown_grace = std::chrono::milliseconds(500);
    return c;
}

test_server::test_server(std::function<void(conf::config&)> const& tweak) {
    auto c = test_config(dir_.path);
    if (tweak) tweak(c);
    // Only the fixture's own fresh dir gets the fixture key: a test that brings its data dir (key rotation)
    // generates for real.
    if (c.data_dir == dir_.path) seed_data_dir(dir_.path);
    srv_ = std::make_unique<server::running_server>(c);
}

test_server::~test_server() = default;

unsigned short test_server::fapi_port() const { return srv_->fapi_endpoint().port(); }
unsigned short test_server::bapi_port() const { return srv_->bapi_endpoint().port(); }
server::api::app& test_server::app() { return srv_->app(); }
server::instance const& test_server::inst() const { return srv_->inst(); }
std::string const& test_server::secret_key() const { return srv_->inst().secret_keys.front(); }

void test_server::advance(std::chrono::milliseconds d) { srv_->app().clock_offset_ms.fetch_add(d.count()); }

std::vector<json::object> test_server::outbox() const {
    std::vector<json::object> out;
    std::ifstream in(dir_.path + "/outbox.jsonl");
    std::string line;
    while (std::getline(in, line)) {
        boost::system::error_code ec;
        auto v = json::parse(line, ec);
        if (!ec && v.is_object()) out.push_back(v.get_object());
    }
    return out;
}

std::string test_server::last_code(std::string const& to) const {
    std::string code;
    for (auto const& m : outbox())
        if (auto const* t = m.if_contains("to"); t && t->is_string() && t->get_string() == to)
            code = std::string(m.at("code").get_string());
    return code;
}

std::string http_result::error_code() const {
    if (!json.is_object()) return {};
    auto const* e = json.get_object().if_contains("errors");
    if (!e || !e->is_array() || e->get_array().empty()) return {};
    auto const& first = e->get_array()[0];
    if (!first.is_object()) return {};
    auto const* c = first.get_object().if_contains("code");
    return c && c->is_string() ? std::string(c->get_string()) : std::string{};
}

std::string http_result::param_name() const {
    if (!json.is_object()) return {};
    auto const* e = json.get_object().if_contains("errors");
    if (!e || !e->is_array() || e->get_array().empty()) return {};
    auto const* meta = e->get_array()[0].get_object().if_contains("meta");
    if (!meta || !meta->is_object()) return {};
    auto const* p = meta->get_object().if_contains("param_name");
    return p && p->is_string() ? std::string(p->get_string()) : std::string{};
}

http_result to_result(http::response<http::string_body> const& res) {
    http_result r;
    r.status = res.result_int();
    r.body = res.body();
    for (auto const& f : res) {
        std::string name(f.name_string());
        for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (name == "set-cookie")
            r.set_cookies.emplace_back(f.value());
        else
            r.headers[name] = std::string(f.value());
    }
    boost::system::error_code ec;
    auto v = json::parse(r.body, ec);
    if (!ec) r.json = std::move(v);
    return r;
}

http_result raw_exchange(unsigned short port, std::string const& bytes, std::chrono::milliseconds timeout) {
    net::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    stream.expires_after(timeout);
    boost::system::error_code ec;
    net::write(stream.socket(), net::buffer(bytes), ec);
    beast::flat_buffer buf;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    stream.expires_after(timeout);
    http::read(stream, buf, parser, ec);
    if (ec && !parser.is_header_done()) return {};
    auto res = parser.release();
    return to_result(res);
}

http_result http_client::request(http::verb method, std::string const& target, std::string const& body,
                                 std::vector<std::pair<std::string, std::string>> const& headers) {
    net::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_));
    stream.expires_after(std::chrono::seconds(30));
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1:" + std::to_string(port_));
    std::string cookie_header;
    for (auto const& [k, v] : cookies) cookie_header += (cookie_header.empty() ? "" : "; ") + k + "=" + v;
    if (!cookie_header.empty()) req.set(http::field::cookie, cookie_header);
    if (!origin.empty()) req.set(http::field::origin, origin);
    for (auto const& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(stream, buf, res);
    auto r = to_result(res);
    for (auto const& sc : r.set_cookies) clerk_js::keep_cookie(cookies, sc);
    // As clerk-js does: a Clerk-Db-Jwt response header replaces the dev-browser token (it rotates on sign-in).
    if (auto it = r.headers.find("clerk-db-jwt"); it != r.headers.end() && !dev_browser.empty())
        dev_browser = it->second;
    return r;
}

std::string form_encode(std::vector<std::pair<std::string, std::string>> const& form) {
    return clerk_js::form_encode(form);
}

http_result http_client::fapi(std::string const& method, std::string const& path,
                              std::vector<std::pair<std::string, std::string>> const& form) {
    auto [verb, target] = clerk_js::fapi_call_for(method, path);
    if (!dev_browser.empty()) target += "&__clerk_db_jwt=" + dev_browser;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    if (verb == http::verb::post) {
        headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
        body = form_encode(form);
    }
    return request(verb, target, body, headers);
}

http_result http_client::bapi(http::verb method, std::string const& path, json::value const& body) {
    std::vector<std::pair<std::string, std::string>> headers{{"Authorization", "Bearer " + secret_key},
                                                             {"Content-Type", "application/json"}};
    return request(method, path, body.is_null() ? std::string{} : json::serialize(body), headers);
}

}  // namespace latchkey::test

#include "crypto/encoding.hpp"
#include "crypto/password.hpp"
#include "crypto/random.hpp"

namespace latchkey::test {

std::string seed_user(server::api::app& a, std::string const& email, std::string const& password) {
    store::user_record u;
    u.id = crypto::new_id("user");
    auto now = a.now_ms();
    auto e = identification("email_address", crypto::new_id("idn"), email, "verified");
    e.verification.strategy = "admin";
    e.created_at = e.updated_at = now;
    u.identifications.push_back(e);
    u.primary_email_address_id = e.id;
    if (!password.empty()) u.password_digest = crypto::hash_password(password).value();
    u.created_at = u.updated_at = now;
    auto r = a.db.with_write([&](store::write_txn& w) { return w.users().put(u, nullptr); });
    if (!r) throw std::runtime_error("seed_user: " + r.error().message());
    return u.id;
}

std::string seed_session(server::api::app& a, std::string const& client_id, std::string const& user_id) {
    auto now = a.now_ms();
    auto const s = active_session(now, user_id, client_id);
    auto r = a.db.with_write([&](store::write_txn& w) -> store::result<void> {
        auto c = w.clients().get(client_id);
        if (!c) return c.error();
        if (!*c) return store::make_error_code(store::errc::not_found);
        auto rec = **c;
        rec.session_ids.push_back(s.id);
        rec.last_active_session_id = s.id;
        rec.updated_at = now;
        if (auto p = w.sessions().put(s); !p) return p;
        return w.clients().put(rec);
    });
    if (!r) throw std::runtime_error("seed_session: " + r.error().message());
    return s.id;
}

namespace {
json::object jwt_part(std::string const& jwt, std::size_t index) {
    std::size_t start = 0;
    for (std::size_t i = 0; i < index; ++i) start = jwt.find('.', start) + 1;
    auto end = jwt.find('.', start);
    auto decoded = crypto::base64url_decode(jwt.substr(start, end - start));
    if (!decoded) return {};
    boost::system::error_code ec;
    auto v = json::parse(*decoded, ec);
    return !ec && v.is_object() ? v.get_object() : json::object{};
}
}  // namespace

json::object jwt_payload(std::string const& jwt) { return jwt_part(jwt, 1); }
json::object jwt_header(std::string const& jwt) { return jwt_part(jwt, 0); }

}  // namespace latchkey::test

namespace latchkey::test {

namespace {
[[noreturn]] void fail(std::string const& what, http_result const& r) {
    throw std::runtime_error(what + " (status " + std::to_string(r.status) + "): " + r.body);
}
}  // namespace

std::string str(json::value const& v) { return std::string(v.as_string()); }

http_client bapi_client(test_server& s) {
    http_client b(s.bapi_port());
    b.secret_key = s.secret_key();
    return b;
}

void expect_error(http_result const& r, unsigned status, std::string const& code, std::string const& param) {
    if (r.status != status) fail("expected status " + std::to_string(status), r);
    if (r.error_code() != code) fail("expected error code " + code, r);
    if (!param.empty() && r.param_name() != param) fail("expected meta.param_name " + param, r);
    auto ct = r.headers.find("content-type");
    if (ct == r.headers.end() || ct->second != "application/json") fail("expected Content-Type application/json", r);
}

json::object create_user(http_client& b, json::object const& body) {
    auto r = b.bapi(http::verb::post, "/v1/users", body);
    if (r.status != 200u) fail("POST /v1/users", r);
    return r.json.as_object();
}

std::string seed_client(server::api::app& a) {
    store::client_record c;
    c.id = crypto::new_id("client");
    c.created_at = c.updated_at = a.now_ms();
    auto w = a.db.with_write([&](store::write_txn& t) { return t.clients().put(c); });
    if (!w) throw std::runtime_error("seed_client: " + w.error().message());
    return c.id;
}

std::optional<store::user_record> load_user(test_server& s, std::string const& id) {
    auto& a = s.app();
    auto r = a.db.with_read([&](store::read_txn& t) { return t.users().get(id); });
    if (!r) throw std::runtime_error("load_user: " + r.error().message());
    return *r;
}

std::optional<store::session_record> load_session(test_server& s, std::string const& id) {
    auto& a = s.app();
    auto r = a.db.with_read([&](store::read_txn& t) { return t.sessions().get(id); });
    if (!r) throw std::runtime_error("load_session: " + r.error().message());
    return *r;
}

void edit_user(test_server& s, std::string const& id, std::function<void(store::user_record&)> const& f) {
    auto& a = s.app();
    auto r = a.db.with_write([&](store::write_txn& w) -> store::result<void> {
        auto u = w.users().get(id);
        if (!u) return u.error();
        if (!*u) return store::make_error_code(store::errc::not_found);
        auto prev = **u;
        auto rec = **u;
        f(rec);
        return w.users().put(rec, &prev);
    });
    if (!r) throw std::runtime_error("edit_user: " + r.error().message());
}

json::object const& response(http_result const& r) { return r.json.at("response").as_object(); }

json::value client_session(http_result const& r, std::string const& id) {
    auto const& c = r.json.at("client");
    if (!c.is_object()) return nullptr;
    for (auto const& s : c.at("sessions").as_array())
        if (str(s.at("id")) == id) return s;
    return nullptr;
}

namespace {
/// POST /v1/client from browser `c`; returns the new client's id.
std::string new_browser_client(http_client& c) {
    auto r = c.fapi("POST", "/v1/client");
    if (r.status != 200u) fail("POST /v1/client", r);
    return str(r.json.at("response").at("id"));
}
}  // namespace

signed_in sign_in_browser_as(test_server& s, http_client& c, std::string const& user_id) {
    auto client_id = new_browser_client(c);
    return {client_id, user_id, seed_session(s.app(), client_id, user_id)};
}

signed_in sign_in_browser(test_server& s, http_client& c, std::string const& email, std::string const& password) {
    auto client_id = new_browser_client(c);
    auto user_id = seed_user(s.app(), email, password);
    return {client_id, user_id, seed_session(s.app(), client_id, user_id)};
}

}  // namespace latchkey::test

namespace latchkey::test {

spawned_server spawn_server(std::string const& bin, std::string const& data_dir,
                            std::vector<std::string> const& extra_args, std::vector<std::string> const& env) {
    auto child = spawn_serve(bin, data_dir, extra_args, env);
    if (child.pid < 0) throw std::runtime_error("spawn_server: cannot start " + bin);
    spawned_server c;
    c.pid = child.pid;
    auto const& line = child.line;
    auto port_of = [&](std::string const& key) -> unsigned short {
        auto p = line.find("\"" + key + "\":\"");
        if (p == std::string::npos) return 0;
        auto colon = line.find(':', p + key.size() + 4);
        return static_cast<unsigned short>(std::stoi(line.substr(colon + 1)));
    };
    c.fapi = port_of("fapi");
    c.bapi = port_of("bapi");
    if (c.fapi == 0) throw std::runtime_error("spawn_server: no listening line from the server: " + line);
    return c;
}

}  // namespace latchkey::test
