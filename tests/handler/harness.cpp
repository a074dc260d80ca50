#include "tests/handler/harness.hpp"

#include "crypto/keys.hpp"
#include "crypto/random.hpp"
#include "tests/common/clerk_js.hpp"
#include "tests/common/data_dir.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace latchkey::handler_test {

namespace net = boost::asio;
namespace fs = std::filesystem;

std::string str(json::value const& v) {
    if (!v.is_string()) throw std::runtime_error("not a JSON string: " + json::serialize(v));
    return std::string(v.get_string());
}

namespace {

std::string first_error(json::value const& j, char const* field) {
    if (!j.is_object()) return {};
    auto const* e = j.get_object().if_contains("errors");
    if (e == nullptr || !e->is_array() || e->get_array().empty() || !e->get_array()[0].is_object()) return {};
    auto const& first = e->get_array()[0].get_object();
    json::value const* v = nullptr;
    if (std::string_view(field) == "code") {
        v = first.if_contains("code");
    } else if (auto const* meta = first.if_contains("meta"); meta != nullptr && meta->is_object()) {
        v = meta->get_object().if_contains("param_name");
    }
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string{};
}

std::string make_data_dir() {
    std::string tmpl = (fs::temp_directory_path() / "latchkey-handler-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    fs::permissions(tmpl, fs::perms::owner_all);
    test::seed_data_dir(tmpl);
    return tmpl;
}

}  // namespace

std::string answer::error_code() const { return first_error(json, "code"); }
std::string answer::param_name() const { return first_error(json, "param_name"); }

json::object const& answer::response() const {
    if (json.is_object()) {
        if (auto const* r = json.get_object().if_contains("response"); r != nullptr && r->is_object())
            return r->get_object();
        return json.get_object();
    }
    throw std::runtime_error("no JSON object in the answer: " + body);
}

void recording_sink::send(api::message const& m) {
    std::lock_guard lock(mu_);
    sent_.push_back(m);
}

std::vector<api::message> recording_sink::sent() const {
    std::lock_guard lock(mu_);
    return sent_;
}

std::string recording_sink::last_code(std::string const& to) const {
    std::lock_guard lock(mu_);
    for (auto it = sent_.rbegin(); it != sent_.rend(); ++it)
        if (it->to == to) return it->code;
    throw std::runtime_error("no message was sent to " + to);
}

handler_env::handler_env(std::function<void(conf::config&)> const& tweak) : dir_(make_data_dir()) {
    cfg_.data_dir = dir_;
    cfg_.access_log = false;
    cfg_.test_mode = true;
    cfg_.secret_keys = {"sk_test_handlerhandlerhandler0001"};
    if (tweak) tweak(cfg_);
    boot_ = server::bootstrap(cfg_, "127.0.0.1:8080");
    app_.reset(new api::app{cfg_, boot_.inst, store_, boot_.keys, sink_});
    frontend_routes_ = api::frontend_routes();
    backend_routes_ = api::backend_routes();
    fapi_ = std::make_unique<api::api_service>(*app_, frontend_routes_, api::api_kind::frontend, pool_.get_executor());
    bapi_ = std::make_unique<api::api_service>(*app_, backend_routes_, api::api_kind::backend, pool_.get_executor());
}

handler_env::~handler_env() {
    pool_.join();
    std::error_code ec;
    fs::remove_all(dir_, ec);
}

answer handler_env::run(api::api_service& svc, server::request& req) {
    server::response res;
    server::connection_info ci{"127.0.0.1", false};
    std::atomic<bool> done{false};
    std::exception_ptr failure;
    net::co_spawn(ioc_, svc.handle(req, res, ci), [&](std::exception_ptr e) {
        failure = e;
        done = true;
    });
    // Bounded: a handler that never finishes fails the test instead of hanging it.
    auto const deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!done) {
        if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("the handler did not finish in 30 s");
        ioc_.restart();
        ioc_.run_for(std::chrono::milliseconds(20));
    }
    if (failure) std::rethrow_exception(failure);
    answer a;
    a.status = res.result_int();
    a.body = res.body();
    for (auto const& f : res.base())
        if (f.name() == http::field::set_cookie) a.set_cookies.emplace_back(f.value());
    boost::system::error_code ec;
    a.json = json::parse(a.body, ec);
    if (ec) a.json = nullptr;
    for (auto const& c : a.set_cookies) test::clerk_js::keep_cookie(cookies_, c);
    return a;
}

answer handler_env::fapi(std::string const& method, std::string const& path,
                         std::vector<std::pair<std::string, std::string>> const& form) {
    auto const [verb, target] = test::clerk_js::fapi_call_for(method, path);
    server::request req{verb, target, 11};
    req.set(http::field::host, "127.0.0.1:8080");
    req.set(http::field::user_agent, "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120 Safari/537.36");
    std::string cookie;
    for (auto const& [k, v] : cookies_) cookie += (cookie.empty() ? "" : "; ") + k + "=" + v;
    if (!cookie.empty()) req.set(http::field::cookie, cookie);
    if (verb == http::verb::post) {
        std::string body = test::clerk_js::form_encode(form);
        req.set(http::field::content_type, "application/x-www-form-urlencoded");
        req.body() = std::move(body);
        req.prepare_payload();
    }
    return run(*fapi_, req);
}

answer handler_env::bapi(http::verb method, std::string const& path, json::value const& body) {
    server::request req{method, path, 11};
    req.set(http::field::host, "127.0.0.1:8081");
    req.set(http::field::authorization, "Bearer " + boot_.inst.secret_keys.front());
    if (!body.is_null()) {
        req.set(http::field::content_type, "application/json");
        req.body() = json::serialize(body);
    }
    req.prepare_payload();
    return run(*bapi_, req);
}

std::string counting_db::take_log() {
    std::lock_guard lock(mu_);
    return std::exchange(log_, {});
}

store::result<void> counting_db::run_read(store::function_ref<store::result<void>(store::read_txn&)> body) const {
    {
        std::lock_guard lock(mu_);
        log_ += 'r';
    }
    return inner_.with_read([&](store::read_txn& t) { return body(t); });
}

store::result<void> counting_db::run_write(store::function_ref<store::result<void>(store::write_txn&)> body) {
    {
        std::lock_guard lock(mu_);
        log_ += 'w';
    }
    return inner_.with_write([&](store::write_txn& w) { return body(w); });
}

std::string create_password_user(handler_env& env, std::string const& email) {
    auto u = env.bapi(http::verb::post, "/v1/users",
                      json::object{{"email_address", json::array{json::string(email)}}, {"password", test_password}});
    if (u.status != 200u) throw std::runtime_error("POST /v1/users: " + u.body);
    return str(u.json.at("id"));
}

answer password_sign_in(handler_env& env, std::string const& identifier, std::string const& pw) {
    return env.fapi("POST", "/v1/client/sign_ins",
                    {{"identifier", identifier}, {"strategy", "password"}, {"password", pw}});
}

namespace {
template <class Rec, class Get>
Rec stored(handler_env& env, Get get, std::string const& what) {
    auto r = env.read(get);
    if (!r) throw std::runtime_error("reading " + what + ": " + r.error().message());
    if (!*r) throw std::runtime_error("no stored " + what);
    return **r;
}
}  // namespace

store::user_record stored_user(handler_env& env, std::string const& id) {
    return stored<store::user_record>(
        env, [&](store::read_txn& t) { return t.users().get(id); }, "user " + id);
}

store::session_record stored_session(handler_env& env, std::string const& id) {
    return stored<store::session_record>(
        env, [&](store::read_txn& t) { return t.sessions().get(id); }, "session " + id);
}

}  // namespace latchkey::handler_test
