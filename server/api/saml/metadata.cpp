// IdP metadata by URL (issue 15): fetched with the outbound client (server/federation/fetch.*: https with
// certificate verification, the saml_metadata_ca_file, a whole-transfer timeout, answers bounded), checked like
// inline metadata (no DTD or entity, an EntityDescriptor with a redirect SSO URL and a signing certificate), and
// kept in meta "saml_metadata:<connection id>" with the URL it came from, so a refresh that fails leaves the last
// good copy in place and a changed URL never reads a copy of the old one.
#include "server/api/federation/federation.hpp"
#include "server/api/saml/saml.hpp"
#include "server/api/txn.hpp"
#include "server/log.hpp"
#include "server/saml/saml.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace latchkey::server::api::saml_sso {

namespace json = boost::json;

namespace {

std::string meta_key(std::string_view id) { return "saml_metadata:" + std::string(id); }

}  // namespace

std::optional<std::string> fetch_metadata(app& a, std::string const& url, std::string& why) {
    if (!url.starts_with("https://")) return why = "the metadata URL must be https", std::nullopt;
    if (a.oauth_fetcher == nullptr) return why = "no outbound client", std::nullopt;
    conf::oauth_provider via;  // the transport settings of the fetch
    via.ca_file = a.cfg.saml_metadata_ca_file;
    via.timeout = a.cfg.saml_metadata_timeout;
    via.allow_http = false;
    federation::fetch_request r;
    r.url = url;
    r.accept = "application/samlmetadata+xml, application/xml, text/xml";
    auto res = a.oauth_fetcher->fetch(via, r);
    if (res.status != 200) {
        why = res.status == 0 ? "fetch failed: " + res.error : "the server answered " + std::to_string(res.status);
        return std::nullopt;
    }
    if (!saml::parse_idp_metadata(res.body, why)) return std::nullopt;
    return std::move(res.body);
}

store::result<void> load_fetched_metadata(store::read_txn const& t, connection& k) {
    if (k.c.idp_metadata_url.empty()) return {};
    auto v = t.meta().get(meta_key(k.c.id));
    if (!v) return v.error();
    if (!*v) return {};
    boost::system::error_code ec;
    auto doc = json::parse(**v, ec);
    if (ec || !doc.is_object()) return {};
    auto const& o = doc.get_object();
    auto const* url = o.if_contains("url");
    auto const* xml = o.if_contains("xml");
    auto const* at = o.if_contains("fetched_at");
    if (url == nullptr || !url->is_string() || url->get_string() != k.c.idp_metadata_url || xml == nullptr ||
        !xml->is_string())
        return {};
    k.fetched_metadata = std::string(xml->get_string());
    k.metadata_fetched_at = at != nullptr && at->is_int64() ? at->get_int64() : 0;
    return {};
}

store::result<void> save_fetched_metadata(store::write_txn& w, std::string_view id, std::string_view url,
                                          std::string_view xml, std::int64_t now) {
    return w.meta().put(meta_key(id), json::serialize(json::object{{"url", url}, {"xml", xml}, {"fetched_at", now}}));
}

std::size_t refresh_metadata(app& a) {
    auto conns = txn::read(a, "saml_connections", [&](store::read_txn& t) { return all(a, t); });
    if (!conns) {
        log::warn("saml_metadata_refresh", {{"error", "store"}});
        return 1;
    }
    std::size_t failed = 0;
    for (auto const& k : *conns) {
        if (k.c.idp_metadata_url.empty()) continue;
        std::string why;
        auto xml = fetch_metadata(a, k.c.idp_metadata_url, why);  // no txn open across the fetch
        if (!xml) {
            ++failed;
            log::warn(
                "saml_metadata_refresh",
                {{"connection", k.c.id}, {"error", why}, {"kept_copy_from", std::to_string(k.metadata_fetched_at)}});
            continue;
        }
        auto w = txn::write<void>(
            a, "saml_metadata", txn::on_client_error::abort,
            [&](store::write_txn& tx) -> store::result<api_result<void>> {
                if (auto r = save_fetched_metadata(tx, k.c.id, k.c.idp_metadata_url, *xml, a.now_ms()); !r)
                    return r.error();
                return api_result<void>();
            });
        if (!w) ++failed;
    }
    return failed;
}

}  // namespace latchkey::server::api::saml_sso
