#include "server/api/views.hpp"
#include "server/api/domain/passkeys.hpp"
#include "server/api/domain/web3.hpp"
#include "server/api/federation/federation.hpp"
#include "server/api/saml/saml.hpp"

#include "server/api/activity.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <initializer_list>

namespace latchkey::server::api::views {

namespace json = boost::json;

namespace {

// Objects are built with emplace() into reserved capacity: emplace constructs the value with the object's
// storage (no copy between resources) and, with the final size reserved up front, no rehash happens while
// keys are added. Key order is insertion order and is part of the wire format: keep it.

void put_str_or_null(json::object& o, std::string_view key, std::string const& s) {
    if (s.empty())
        o.emplace(key, nullptr);
    else
        o.emplace(key, json::string_view(s));
}

void put_ms_or_null(json::object& o, std::string_view key, std::int64_t v) {
    if (v == 0)
        o.emplace(key, nullptr);
    else
        o.emplace(key, v);
}

thread_local std::string_view current_default_image_url = "/v1/avatar/default";

}  // namespace

std::string_view default_image_url() noexcept { return current_default_image_url; }

default_image_scope::default_image_scope(std::string_view url) noexcept : previous_(current_default_image_url) {
    current_default_image_url = url;
}

default_image_scope::~default_image_scope() { current_default_image_url = previous_; }

json::value json_text(std::string_view text, json::storage_ptr sp) {
    // Nearly every stored metadata is the default "{}": no parser for it.
    if (text == "{}") return json::object(std::move(sp));
    boost::system::error_code ec;
    json::value v = json::parse(text, ec, sp);
    if (ec || !v.is_object()) return json::object(std::move(sp));
    return v;
}

json::value verification(store::verification_record const& v, json::storage_ptr sp) {
    if (v.status.empty()) return json::value(nullptr, std::move(sp));
    json::object o(std::move(sp));
    o.reserve(7);
    o.emplace("object", "verification");
    o.emplace("status", json::string_view(v.status));
    o.emplace("strategy", json::string_view(v.strategy));
    if (v.status == "unverified" || v.attempts > 0)
        o.emplace("attempts", v.attempts);
    else
        o.emplace("attempts", nullptr);
    put_ms_or_null(o, "expire_at", v.expire_at);
    if (v.verified_at_client.empty())
        o.emplace("verified_at_client", nullptr);
    else
        o.emplace("verified_at_client", json::string_view(v.verified_at_client));  // email links (issue 14)
    o.emplace("error", nullptr);
    return json::value(std::move(o));
}

namespace {

/// An identification's view up to its verification: {id, object: kind, <kind>: value, <flags...>, reserved,
/// verification, linked_to}, `flags` being the kind's own booleans before `reserved`.
json::object identification(store::identification_record const& i, std::string_view kind,
                            std::initializer_list<std::pair<std::string_view, bool>> flags, std::size_t fields,
                            json::storage_ptr sp) {
    json::object o(std::move(sp));
    o.reserve(fields);
    o.emplace("id", json::string_view(i.id));
    o.emplace("object", kind);
    o.emplace(kind, json::string_view(i.value));
    for (auto const& [name, on] : flags) o.emplace(name, on);
    o.emplace("reserved", i.reserved);
    o.emplace("verification", verification(i.verification, o.storage()));
    o.emplace("linked_to", json::array_kind);
    return o;
}

}  // namespace

json::object email_address(store::user_record const&, store::identification_record const& e, json::storage_ptr sp) {
    auto o = identification(e, "email_address", {}, 9, std::move(sp));
    o.emplace("matches_sso_connection", false);
    o.emplace("created_at", e.created_at);
    o.emplace("updated_at", e.updated_at);
    return o;
}

json::object phone_number(store::user_record const&, store::identification_record const& p, json::storage_ptr sp) {
    auto o = identification(p, "phone_number",
                            {{"reserved_for_second_factor", p.reserved_for_second_factor},
                             {"default_second_factor", p.default_second_factor}},
                            11, std::move(sp));
    o.emplace("backup_codes", nullptr);
    o.emplace("created_at", p.created_at);
    o.emplace("updated_at", p.updated_at);
    return o;
}

lockout lockout_of(store::user_record const& u, std::int64_t now_ms, std::uint32_t max_attempts) {
    lockout l;
    std::int64_t const until = u.lockout_expires_at;
    bool const timed = until > now_ms;  // the automatic lockout, or a BAPI lock, still running
    // A BAPI lock lasts the configured lockout duration, as Clerk's does ("until the lock expires"); only a lock
    // without an end (none is written today) would hold for ever.
    l.locked = timed || (u.locked && until == 0);
    if (timed) {
        // ceil((until - now) / 1000) = n for every now in [until - n s, until - (n-1) s).
        std::int64_t const n = (until - now_ms + 999) / 1000;
        l.expires_in_seconds = n;
        l.valid_from_ms = until - n * 1000;
        l.valid_until_ms = until - (n - 1) * 1000;
    } else if (until > 0) {
        l.valid_from_ms = until;  // before it, the lockout was running
    }
    // The automatic lockout leaves no attempts; a BAPI lock keeps the count (Clerk: a user locked explicitly may
    // still have verification attempts remaining). The counter restarts when a lockout begins.
    std::int64_t const left = static_cast<std::int64_t>(max_attempts) - u.failed_attempts;
    l.attempts_remaining = timed && !u.locked ? 0 : std::max<std::int64_t>(left, 0);
    return l;
}

json::object user(store::user_record const& u, audience who, lockout const& lock, json::storage_ptr sp) {
    json::object o(std::move(sp));
    o.reserve(who == audience::backend ? 43 : 42);
    auto const& st = o.storage();
    o.emplace("id", json::string_view(u.id));
    o.emplace("object", "user");
    put_str_or_null(o, "username", u.username);
    put_str_or_null(o, "first_name", u.first_name);
    put_str_or_null(o, "last_name", u.last_name);
    json::string_view const image =
        u.image_url.empty() ? json::string_view(default_image_url()) : json::string_view(u.image_url);
    o.emplace("image_url", image);
    o.emplace("profile_image_url", image);
    o.emplace("has_image", !u.image_url.empty());
    put_str_or_null(o, "primary_email_address_id", u.primary_email_address_id);
    put_str_or_null(o, "primary_phone_number_id", u.primary_phone_number_id);
    put_str_or_null(o, "primary_web3_wallet_id", u.primary_web3_wallet_id);
    o.emplace("password_enabled", !u.password_digest.empty());
    o.emplace("two_factor_enabled", u.two_factor_enabled);
    o.emplace("totp_enabled", u.totp_enabled);
    o.emplace("backup_code_enabled", u.backup_code_enabled);
    json::array emails(st);
    json::array phones(st);
    for (auto const& i : u.identifications) {
        if (i.kind == "email_address")
            emails.emplace_back(email_address(u, i, st));
        else if (i.kind == "phone_number")
            phones.emplace_back(phone_number(u, i, st));
    }
    o.emplace("email_addresses", std::move(emails));
    o.emplace("phone_numbers", std::move(phones));
    o.emplace("web3_wallets", json::value(domain::web3::wallets_json(u), st));  // issue 14
    if (u.passkeys.empty())
        o.emplace("passkeys", json::array_kind);
    else  // issue 14: the verified ones
        o.emplace("passkeys", json::value(domain::passkeys::passkeys_json(u), st));
    if (u.organization_memberships == "[]" || u.organization_memberships.empty()) {
        o.emplace("organization_memberships", json::array_kind);
    } else {  // kept in the record by server/api/organizations/ (issue 13)
        boost::system::error_code ec;
        json::value m = json::parse(u.organization_memberships, ec, st);
        if (ec || !m.is_array()) m = json::array(st);
        o.emplace("organization_memberships", std::move(m));
    }
    json::array external(st);
    for (auto const& ea : u.external_accounts) external.emplace_back(federation::external_account_json(ea));
    o.emplace("external_accounts", std::move(external));
    o.emplace("saml_accounts", json::array_kind);
    json::array enterprise(st);  // issue 15: SAML identities
    for (auto const& ea : u.enterprise_accounts) enterprise.emplace_back(saml_sso::enterprise_account_json(ea));
    o.emplace("enterprise_accounts", std::move(enterprise));
    put_ms_or_null(o, "password_last_updated_at", u.password_last_updated_at);
    o.emplace("public_metadata", json_text(u.public_metadata, st));
    if (who == audience::backend) o.emplace("private_metadata", json_text(u.private_metadata, st));
    o.emplace("unsafe_metadata", json_text(u.unsafe_metadata, st));
    put_str_or_null(o, "external_id", u.external_id);
    put_ms_or_null(o, "last_sign_in_at", u.last_sign_in_at);
    o.emplace("banned", u.banned);
    o.emplace("locked", lock.locked);
    o.emplace("deprovisioned", false);
    if (lock.expires_in_seconds)
        o.emplace("lockout_expires_in_seconds", *lock.expires_in_seconds);
    else
        o.emplace("lockout_expires_in_seconds", nullptr);
    o.emplace("verification_attempts_remaining", lock.attempts_remaining);
    o.emplace("created_at", u.created_at);
    o.emplace("updated_at", u.updated_at);
    o.emplace("delete_self_enabled", u.delete_self_enabled);
    o.emplace("create_organization_enabled", u.create_organization_enabled);
    o.emplace("create_organizations_limit", nullptr);
    put_ms_or_null(o, "last_active_at", u.last_active_at);
    o.emplace("mfa_enabled_at", nullptr);
    o.emplace("mfa_disabled_at", nullptr);
    put_ms_or_null(o, "legal_accepted_at", u.legal_accepted_at);
    return o;
}

json::object public_user_data(store::user_record const& u, json::storage_ptr sp) {
    json::object o(std::move(sp));
    o.reserve(9);
    put_str_or_null(o, "first_name", u.first_name);
    put_str_or_null(o, "last_name", u.last_name);
    o.emplace("image_url",
              u.image_url.empty() ? json::string_view(default_image_url()) : json::string_view(u.image_url));
    o.emplace("has_image", !u.image_url.empty());
    // The identifier shown for the session: the primary email, else the primary phone, else the username.
    std::string_view identifier = u.username;
    for (auto const& i : u.identifications)
        if (i.id == u.primary_email_address_id) identifier = i.value;
    if (identifier.empty())
        for (auto const& i : u.identifications)
            if (i.id == u.primary_phone_number_id) identifier = i.value;
    o.emplace("identifier", json::string_view(identifier));
    o.emplace("user_id", json::string_view(u.id));
    put_str_or_null(o, "username", u.username);
    o.emplace("banned", u.banned);
    o.emplace("deprovisioned", false);
    return o;
}

json::object backend_session(store::session_record const& s) {
    json::object o;
    o.reserve(13);
    o.emplace("object", "session");
    o.emplace("id", json::string_view(s.id));
    o.emplace("client_id", json::string_view(s.client_id));
    o.emplace("user_id", json::string_view(s.user_id));
    o.emplace("status", json::string_view(s.status));
    put_str_or_null(o, "last_active_organization_id", s.last_active_organization_id);
    if (s.actor.empty())
        o.emplace("actor", nullptr);
    else
        o.emplace("actor", json_text(s.actor, o.storage()));
    if (has_activity(s))
        o.emplace("latest_activity", activity_json(s, o.storage()));
    else
        o.emplace("latest_activity", nullptr);
    o.emplace("last_active_at", s.last_active_at);
    o.emplace("expire_at", s.expire_at);
    o.emplace("abandon_at", s.abandon_at);
    o.emplace("created_at", s.created_at);
    o.emplace("updated_at", s.updated_at);
    return o;
}

json::object backend_client(store::client_record const& c, std::vector<store::session_record> const& sessions) {
    json::object o;
    o.reserve(10);
    o.emplace("object", "client");
    o.emplace("id", json::string_view(c.id));
    json::array ids;
    json::array ss;
    ids.reserve(sessions.size());
    ss.reserve(sessions.size());
    for (auto const& s : sessions) {
        ids.emplace_back(json::string_view(s.id));
        ss.emplace_back(backend_session(s));
    }
    o.emplace("session_ids", std::move(ids));
    o.emplace("sessions", std::move(ss));
    put_str_or_null(o, "sign_in_id", c.sign_in_id);
    put_str_or_null(o, "sign_up_id", c.sign_up_id);
    put_str_or_null(o, "last_active_session_id", c.last_active_session_id);
    o.emplace("last_authentication_strategy", nullptr);
    o.emplace("created_at", c.created_at);
    o.emplace("updated_at", c.updated_at);
    return o;
}

bool session_live(store::session_record const& s, std::int64_t now_ms) {
    return (s.status == "active" || s.status == "pending") && (s.expire_at == 0 || s.expire_at > now_ms) &&
           (s.abandon_at == 0 || s.abandon_at > now_ms);
}

json::object deleted_object(std::string_view object, std::string_view id) {
    return {{"object", object}, {"id", id}, {"deleted", true}};
}

}  // namespace latchkey::server::api::views
