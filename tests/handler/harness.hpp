#pragma once
// Handler-level tests: the real API layer (api_service::handle: parse, route, identity, CSRF, the handler, the
// envelope) over the in-memory store (store/memory/), without sockets, listeners or files beyond the data dir's
// keys. The logic is tested here; the wire (HTTP framing, timeouts, TLS) in tests/integration.
#include "conf/config.hpp"
#include "server/api/app.hpp"
#include "server/api/context.hpp"
#include "server/api/dispatch.hpp"
#include "server/instance.hpp"
#include "store/memory/db.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/value.hpp>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace latchkey::handler_test {

namespace api = server::api;
namespace json = boost::json;
namespace http = boost::beast::http;

/// What a handler answered.
struct answer {
    unsigned status = 0;
    std::string body;
    json::value json;  ///< parsed body (null if not JSON)
    std::vector<std::string> set_cookies;
    std::string error_code() const;  ///< errors[0].code or ""
    std::string param_name() const;  ///< errors[0].meta.param_name or ""
    /// `response` of a FAPI envelope (or the BAPI body) as an object; throws when it is none.
    json::object const& response() const;
};

/// The messages the API hands to its sink, kept in memory (our own message_sink interface).
class recording_sink final : public api::message_sink {
public:
    void send(api::message const& m) override;
    std::vector<api::message> sent() const;
    /// The code of the last message sent to `to`; throws when there is none.
    std::string last_code(std::string const& to) const;

private:
    mutable std::mutex mu_;
    std::vector<api::message> sent_;
};

/// The memory store behind a log of the txns begun, in order ('r' read, 'w' write): a decorator of our own
/// store::database interface, so a test can hold a handler to its txn budget (no re-read after its write).
class counting_db final : public store::database {
public:
    std::uint64_t version() const noexcept override { return inner_.version(); }
    store::result<void> sync() noexcept override { return inner_.sync(); }
    /// The txns begun since the last take_log(), and clears it.
    std::string take_log();

protected:
    store::result<void> run_read(store::function_ref<store::result<void>(store::read_txn&)> body) const override;
    store::result<void> run_write(store::function_ref<store::result<void>(store::write_txn&)> body) override;

private:
    store::memory::db inner_;
    mutable std::mutex mu_;
    mutable std::string log_;
};

/// An app over a fresh memory store, the FAPI and BAPI services over THE route tables, and one browser's
/// cookie jar.
class handler_env {
public:
    explicit handler_env(std::function<void(conf::config&)> const& tweak = {});
    ~handler_env();
    handler_env(handler_env const&) = delete;
    handler_env& operator=(handler_env const&) = delete;

    /// A FAPI call the way clerk-js makes it (GET or POST with `_method`, form body, the jar's cookies).
    answer fapi(std::string const& method, std::string const& path,
                std::vector<std::pair<std::string, std::string>> const& form = {});
    /// A BAPI call with the instance's secret key and a JSON body.
    answer bapi(http::verb method, std::string const& path, json::value const& body = nullptr);

    api::app& app() { return *app_; }
    store::database& db() { return store_; }
    /// The txns the store saw since the last call ('r'/'w' in order; see counting_db).
    std::string txn_log() { return store_.take_log(); }
    recording_sink& sink() { return sink_; }
    std::map<std::string, std::string>& cookies() { return cookies_; }

    /// Reads the store in one snapshot.
    template <class F>
    auto read(F&& f) {
        return store_.with_read([&](store::read_txn& t) { return f(t); });
    }

private:
    answer run(api::api_service& svc, server::request& req);

    std::string dir_;
    conf::config cfg_;
    server::bootstrap_result boot_;
    counting_db store_;
    recording_sink sink_;
    std::unique_ptr<api::app> app_;
    api::route_table frontend_routes_;
    api::route_table backend_routes_;
    boost::asio::thread_pool pool_{1};
    std::unique_ptr<api::api_service> fapi_;
    std::unique_ptr<api::api_service> bapi_;
    boost::asio::io_context ioc_{1};
    std::map<std::string, std::string> cookies_;
};

/// The string value of a JSON string.
std::string str(json::value const& v);

/// The password the helpers below give and use.
inline constexpr char const* test_password = "correct horse battery staple";

/// A user with `email` and test_password created through BAPI POST /v1/users (it must succeed); returns its id.
std::string create_password_user(handler_env& env, std::string const& email);

/// A one-step password sign-in by `identifier` in the env's browser.
answer password_sign_in(handler_env& env, std::string const& identifier, std::string const& pw = test_password);

/// The stored user / session `id` (it must exist).
store::user_record stored_user(handler_env& env, std::string const& id);
store::session_record stored_session(handler_env& env, std::string const& id);

}  // namespace latchkey::handler_test
