#include "server/api/activity.hpp"

#include "crypto/random.hpp"
#include "server/api/user_agent.hpp"
#include "server/geoip.hpp"
#include "server/http/params.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/field.hpp>

namespace latchkey::server::api {

namespace json = boost::json;

std::string canonical_ip(std::string_view remote) {
    remote = server::trim_ows(remote);
    if (remote.empty() || remote.size() > 64) return {};
    boost::system::error_code ec;
    auto addr = boost::asio::ip::make_address(remote, ec);
    if (ec) return {};
    if (addr.is_v6() && addr.to_v6().is_v4_mapped())
        return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, addr.to_v6()).to_string();
    return addr.to_string();
}

bool record_activity(app const& a, request_ctx const& ctx, store::session_record& s) {
    std::string_view ua;
    if (auto it = ctx.req.find(boost::beast::http::field::user_agent); it != ctx.req.end()) ua = it->value();
    ua = ua.substr(0, max_user_agent_bytes);
    std::string ip = canonical_ip(ctx.remote_ip);
    auto& act = s.activity;
    if (!act.id.empty() && act.user_agent == ua && act.ip_address == ip) return false;
    if (act.id.empty() || act.ip_address != ip) {
        geo_place place;
        if (a.geo != nullptr) place = a.geo->lookup(ip);
        act.city = std::move(place.city);
        act.country = std::move(place.country);
    }
    act.id = crypto::new_id("sess_activity");
    act.user_agent.assign(ua);
    act.ip_address = std::move(ip);
    act.created_at = ctx.now;
    return true;
}

namespace {

json::value str_or_null(std::string_view v, json::storage_ptr const& sp) {
    if (v.empty()) return json::value(nullptr, sp);
    return json::value(json::string_view(v), sp);
}

}  // namespace

json::object activity_json(store::session_record const& s, json::storage_ptr const& sp) {
    auto const& act = s.activity;
    auto const ua = parse_user_agent(act.user_agent);
    json::object o(sp);
    o.reserve(9);
    o.emplace("object", "session_activity");
    if (!act.id.empty())
        o.emplace("id", json::string_view(act.id));
    else
        o.emplace("id", "sess_activity_" + (s.id.starts_with("sess_") ? s.id.substr(5) : s.id));
    o.emplace("device_type", str_or_null(ua.device_type, sp));
    o.emplace("is_mobile", ua.is_mobile);
    o.emplace("browser_name", str_or_null(ua.browser_name, sp));
    o.emplace("browser_version", str_or_null(ua.browser_version, sp));
    o.emplace("ip_address", str_or_null(act.ip_address, sp));
    o.emplace("city", str_or_null(act.city, sp));
    o.emplace("country", str_or_null(act.country, sp));
    return o;
}

}  // namespace latchkey::server::api
