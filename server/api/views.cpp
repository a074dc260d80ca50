#include "server/api/views.hpp"

#include <boost/json/parse.hpp>

namespace latchkey::server::api::views {

namespace json = boost::json;

namespace {
json::value str_or_null(std::string const& s) { return s.empty() ? json::value(nullptr) : json::value(s); }
json::value ms_or_null(std::int64_t v) { return v == 0 ? json::value(nullptr) : json::value(v); }
}  // namespace

json::value json_text(std::string_view text) {
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec || !v.is_object()) return json::object{};
    return v;
}

json::value verification(store::verification_record const& v) {
    if (v.status.empty()) return nullptr;
    json::object o;
    o["object"] = "verification";
    o["status"] = v.status;
    o["strategy"] = v.strategy;
    o["attempts"] = v.status == "unverified" || v.attempts > 0 ? json::value(v.attempts) : json::value(nullptr);
    o["expire_at"] = ms_or_null(v.expire_at);
    o["verified_at_client"] = nullptr;
    o["error"] = nullptr;
    return o;
}

json::object email_address(store::user_record const&, store::identification_record const& e) {
    json::object o;
    o["id"] = e.id;
    o["object"] = "email_address";
    o["email_address"] = e.value;
    o["reserved"] = e.reserved;
    o["verification"] = verification(e.verification);
    o["linked_to"] = json::array{};
    o["matches_sso_connection"] = false;
    o["created_at"] = e.created_at;
    o["updated_at"] = e.updated_at;
    return o;
}

json::object phone_number(store::user_record const& u, store::identification_record const& p) {
    json::object o;
    o["id"] = p.id;
    o["object"] = "phone_number";
    o["phone_number"] = p.value;
    o["reserved_for_second_factor"] = false;
    o["default_second_factor"] = false;
    o["reserved"] = p.reserved;
    o["verification"] = verification(p.verification);
    o["linked_to"] = json::array{};
    o["backup_codes"] = nullptr;
    o["created_at"] = p.created_at;
    o["updated_at"] = p.updated_at;
    (void)u;
    return o;
}

json::object user(store::user_record const& u, audience who) {
    json::object o;
    o["id"] = u.id;
    o["object"] = "user";
    o["username"] = str_or_null(u.username);
    o["first_name"] = str_or_null(u.first_name);
    o["last_name"] = str_or_null(u.last_name);
    o["image_url"] = u.image_url.empty() ? std::string("https://img.clerk.com/default") : u.image_url;
    o["profile_image_url"] = o["image_url"];
    o["has_image"] = !u.image_url.empty();
    o["primary_email_address_id"] = str_or_null(u.primary_email_address_id);
    o["primary_phone_number_id"] = str_or_null(u.primary_phone_number_id);
    o["primary_web3_wallet_id"] = nullptr;
    o["password_enabled"] = !u.password_digest.empty();
    o["two_factor_enabled"] = u.two_factor_enabled;
    o["totp_enabled"] = u.totp_enabled;
    o["backup_code_enabled"] = u.backup_code_enabled;
    json::array emails;
    json::array phones;
    for (auto const& i : u.identifications) {
        if (i.kind == "email_address")
            emails.push_back(email_address(u, i));
        else if (i.kind == "phone_number")
            phones.push_back(phone_number(u, i));
    }
    o["email_addresses"] = std::move(emails);
    o["phone_numbers"] = std::move(phones);
    o["web3_wallets"] = json::array{};
    o["passkeys"] = json::array{};
    o["organization_memberships"] = json::array{};
    o["external_accounts"] = json::array{};
    o["saml_accounts"] = json::array{};
    o["enterprise_accounts"] = json::array{};
    o["password_last_updated_at"] = ms_or_null(u.password_last_updated_at);
    o["public_metadata"] = json_text(u.public_metadata);
    if (who == audience::backend) o["private_metadata"] = json_text(u.private_metadata);
    o["unsafe_metadata"] = json_text(u.unsafe_metadata);
    o["external_id"] = str_or_null(u.external_id);
    o["last_sign_in_at"] = ms_or_null(u.last_sign_in_at);
    o["banned"] = u.banned;
    o["locked"] = u.locked;
    o["deprovisioned"] = false;
    o["lockout_expires_in_seconds"] = nullptr;
    o["verification_attempts_remaining"] = nullptr;
    o["created_at"] = u.created_at;
    o["updated_at"] = u.updated_at;
    o["delete_self_enabled"] = u.delete_self_enabled;
    o["create_organization_enabled"] = u.create_organization_enabled;
    o["create_organizations_limit"] = nullptr;
    o["last_active_at"] = ms_or_null(u.last_active_at);
    o["mfa_enabled_at"] = nullptr;
    o["mfa_disabled_at"] = nullptr;
    o["legal_accepted_at"] = ms_or_null(u.legal_accepted_at);
    return o;
}

json::object public_user_data(store::user_record const& u) {
    json::object o;
    o["first_name"] = str_or_null(u.first_name);
    o["last_name"] = str_or_null(u.last_name);
    o["image_url"] = u.image_url.empty() ? std::string("https://img.clerk.com/default") : u.image_url;
    o["has_image"] = !u.image_url.empty();
    std::string identifier = u.username;
    for (auto const& i : u.identifications)
        if (i.id == u.primary_email_address_id) identifier = i.value;
    if (identifier.empty())
        for (auto const& i : u.identifications)
            if (i.id == u.primary_phone_number_id) identifier = i.value;
    o["identifier"] = identifier;
    o["user_id"] = u.id;
    o["username"] = str_or_null(u.username);
    o["banned"] = u.banned;
    o["deprovisioned"] = false;
    return o;
}

json::object backend_session(store::session_record const& s) {
    json::object o;
    o["object"] = "session";
    o["id"] = s.id;
    o["client_id"] = s.client_id;
    o["user_id"] = s.user_id;
    o["status"] = s.status;
    o["last_active_organization_id"] = str_or_null(s.last_active_organization_id);
    o["actor"] = s.actor.empty() ? json::value(nullptr) : json_text(s.actor);
    o["latest_activity"] = nullptr;
    o["last_active_at"] = s.last_active_at;
    o["expire_at"] = s.expire_at;
    o["abandon_at"] = s.abandon_at;
    o["created_at"] = s.created_at;
    o["updated_at"] = s.updated_at;
    return o;
}

json::object backend_client(store::client_record const& c, std::vector<store::session_record> const& sessions) {
    json::object o;
    o["object"] = "client";
    o["id"] = c.id;
    json::array ids;
    json::array ss;
    for (auto const& s : sessions) {
        ids.push_back(json::value(s.id));
        ss.push_back(backend_session(s));
    }
    o["session_ids"] = std::move(ids);
    o["sessions"] = std::move(ss);
    o["sign_in_id"] = str_or_null(c.sign_in_id);
    o["sign_up_id"] = str_or_null(c.sign_up_id);
    o["last_active_session_id"] = str_or_null(c.last_active_session_id);
    o["last_authentication_strategy"] = nullptr;
    o["created_at"] = c.created_at;
    o["updated_at"] = c.updated_at;
    return o;
}

bool session_live(store::session_record const& s, std::int64_t now_ms) {
    return (s.status == "active" || s.status == "pending") && (s.expire_at == 0 || s.expire_at > now_ms) &&
           (s.abandon_at == 0 || s.abandon_at > now_ms);
}

}  // namespace latchkey::server::api::views
