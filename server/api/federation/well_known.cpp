// /.well-known/assetlinks.json and /.well-known/apple-app-site-association (issue 15), from the instance config
// (`android_apps`, `ios_app_ids`): the files Android and iOS fetch for app links and native credentials. Public,
// application/json, never a redirect; 404 (Clerk's resource_not_found) when nothing is configured.
#include "server/api/federation/links.hpp"

#include "server/api/app.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace latchkey::server::api::federation {

namespace json = boost::json;

api_result<reply> get_assetlinks(app& a, request_ctx&) {
    if (a.cfg.android_apps.empty()) return make_error(code::resource_not_found);
    json::array out;
    for (auto const& app_cfg : a.cfg.android_apps) {
        json::array relation;
        if (app_cfg.relations.empty()) {
            relation.emplace_back("delegate_permission/common.handle_all_urls");
            relation.emplace_back("delegate_permission/common.get_login_creds");
        } else {
            for (auto const& r : app_cfg.relations) relation.emplace_back(r);
        }
        json::array prints;
        for (auto const& f : app_cfg.sha256_cert_fingerprints) prints.emplace_back(f);
        out.emplace_back(json::object{{"relation", std::move(relation)},
                                      {"target", json::object{{"namespace", "android_app"},
                                                              {"package_name", app_cfg.package_name},
                                                              {"sha256_cert_fingerprints", std::move(prints)}}}});
    }
    return reply{http::status::ok, json::serialize(out), {}};
}

api_result<reply> get_apple_app_site_association(app& a, request_ctx&) {
    if (a.cfg.ios_app_ids.empty()) return make_error(code::resource_not_found);
    json::array apps;
    for (auto const& id : a.cfg.ios_app_ids) apps.emplace_back(id);
    json::object o{{"webcredentials", json::object{{"apps", std::move(apps)}}}};
    return reply{http::status::ok, json::serialize(o), {}};
}

}  // namespace latchkey::server::api::federation
