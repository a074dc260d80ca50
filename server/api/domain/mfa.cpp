#include "server/api/domain/mfa.hpp"
#include "server/api/domain/sessions.hpp"

#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "crypto/ossl.hpp"
#include "crypto/random.hpp"
#include "crypto/totp.hpp"

#include <boost/json/string.hpp>

#include <algorithm>

namespace latchkey::server::api::domain {

namespace {

/// Binds a sealed TOTP secret to its user: a sealed value copied into another record does not open.
std::string totp_aad(store::user_record const& u) { return "totp:" + u.id; }

/// Backup codes: 8 characters from an alphabet without look-alikes (no 0/o, 1/l/i), about 40 bits each.
constexpr std::string_view backup_alphabet = "abcdefghjkmnpqrstuvwxyz23456789";
constexpr std::size_t backup_code_length = 8;

std::string normalize_backup_code(std::string_view code) {
    std::string out;
    for (char c : code) {
        if (c == ' ' || c == '-') continue;
        out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
    }
    return out;
}

std::string backup_digest(std::string_view code_key, std::string_view normalized) {
    return crypto::hex_encode(crypto::hmac_sha256(code_key, "backup_code:" + std::string(normalized)));
}

}  // namespace

void set_totp_secret(store::user_record& u, crypto::seal_key const& key, std::string_view secret, bool verified,
                     std::int64_t now_ms) {
    u.totp_secret_sealed = crypto::seal(key, secret, totp_aad(u));
    u.totp_id = crypto::new_id("totp");
    u.totp_created_at = now_ms;
    u.totp_updated_at = now_ms;
    u.totp_last_step = 0;
    u.totp_enabled = verified;
    refresh_second_factor_flags(u);
    u.updated_at = now_ms;
}

std::optional<std::string> totp_secret(store::user_record const& u, crypto::seal_key const& key) {
    if (u.totp_secret_sealed.empty()) return std::nullopt;
    auto s = crypto::unseal(key, u.totp_secret_sealed, totp_aad(u));
    if (!s) return std::nullopt;
    return std::move(*s);
}

bool check_totp(store::user_record& u, crypto::seal_key const& key, std::string_view code, std::int64_t now_ms) {
    auto secret = totp_secret(u, key);
    if (!secret) return false;
    auto step = crypto::totp_verify(*secret, code, now_ms / 1000, u.totp_last_step);
    // NOLINTNEXTLINE(clang-analyzer-cplusplus.InnerPointer): nothing reallocates the string before the cleanse
    ::OPENSSL_cleanse(secret->data(), secret->size());
    if (!step) return false;
    u.totp_last_step = *step;
    return true;
}

void remove_totp(store::user_record& u, std::int64_t now_ms) {
    u.totp_secret_sealed.clear();
    u.totp_id.clear();
    u.totp_created_at = 0;
    u.totp_updated_at = 0;
    u.totp_last_step = 0;
    u.totp_enabled = false;
    refresh_second_factor_flags(u);
    u.updated_at = now_ms;
}

std::vector<std::string> create_backup_codes(store::user_record& u, std::string_view code_key, std::int64_t now_ms) {
    std::vector<std::string> codes;
    u.backup_code_digests.clear();
    while (codes.size() < backup_code_count) {
        std::string c;
        while (c.size() < backup_code_length) {
            unsigned char b = 0;
            crypto::random_bytes({&b, 1});
            // Rejection sampling: 31 symbols, so keep bytes below 248 (8 * 31) for no modulo bias.
            if (b >= 248) continue;
            c.push_back(backup_alphabet[b % backup_alphabet.size()]);
        }
        if (std::find(codes.begin(), codes.end(), c) != codes.end()) continue;
        u.backup_code_digests.push_back(backup_digest(code_key, c));
        codes.push_back(std::move(c));
    }
    u.backup_codes_created_at = now_ms;
    refresh_second_factor_flags(u);
    u.updated_at = now_ms;
    return codes;
}

bool use_backup_code(store::user_record& u, std::string_view code_key, std::string_view code, std::int64_t now_ms) {
    auto const n = normalize_backup_code(code);
    if (n.empty() || n.size() > 64) return false;
    auto const d = backup_digest(code_key, n);
    std::size_t hit = u.backup_code_digests.size();
    for (std::size_t i = 0; i < u.backup_code_digests.size(); ++i)
        if (crypto::equal_ct(u.backup_code_digests[i], d)) hit = i;
    if (hit == u.backup_code_digests.size()) return false;
    u.backup_code_digests.erase(u.backup_code_digests.begin() + static_cast<std::ptrdiff_t>(hit));
    refresh_second_factor_flags(u);
    u.updated_at = now_ms;
    return true;
}

bool has_phone_second_factor(store::user_record const& u) {
    return std::any_of(u.identifications.begin(), u.identifications.end(), [](auto const& i) {
        return i.kind == "phone_number" && i.reserved_for_second_factor && i.verification.status == "verified";
    });
}

void refresh_second_factor_flags(store::user_record& u) {
    u.totp_enabled = u.totp_enabled && !u.totp_secret_sealed.empty();
    u.backup_code_enabled = !u.backup_code_digests.empty();
    u.two_factor_enabled = u.totp_enabled || has_phone_second_factor(u);
}

bool second_factor_enabled(app const& a, std::string_view strategy) {
    return std::find(a.cfg.second_factors.begin(), a.cfg.second_factors.end(), strategy) != a.cfg.second_factors.end();
}

namespace {

/// "+1*******55": the country prefix and the last two digits.
std::string mask_phone(std::string_view p) {
    if (p.size() <= 4) return "***";
    return std::string(p.substr(0, 2)) + std::string(p.size() - 4, '*') + std::string(p.substr(p.size() - 2));
}

bool phone_factor(store::identification_record const& i) {
    return i.kind == "phone_number" && i.reserved_for_second_factor && i.verification.status == "verified";
}

}  // namespace

boost::json::array supported_second_factors(app const& a, store::user_record const& u) {
    boost::json::array out;
    if (u.totp_enabled && second_factor_enabled(a, "totp")) out.push_back(boost::json::object{{"strategy", "totp"}});
    if (second_factor_enabled(a, "phone_code")) {
        auto const* def = second_factor_phone(u, {});
        for (auto const& i : u.identifications) {
            if (!phone_factor(i)) continue;
            boost::json::object f;
            f["strategy"] = "phone_code";
            f["phone_number_id"] = i.id;
            f["safe_identifier"] = mask_phone(i.value);
            f["default"] = def == &i;
            out.push_back(std::move(f));
        }
    }
    if (u.backup_code_enabled && !out.empty() && second_factor_enabled(a, "backup_code"))
        out.push_back(boost::json::object{{"strategy", "backup_code"}});
    return out;
}

store::identification_record const* second_factor_phone(store::user_record const& u, std::string_view phone_number_id) {
    store::identification_record const* first = nullptr;
    for (auto const& i : u.identifications) {
        if (!phone_factor(i)) continue;
        if (!phone_number_id.empty()) {
            if (i.id == phone_number_id) return &i;
            continue;
        }
        if (i.default_second_factor) return &i;
        if (first == nullptr) first = &i;
    }
    return phone_number_id.empty() ? first : nullptr;
}

boost::json::object totp_json(app const& a, store::user_record const& u, std::string_view secret,
                              std::vector<std::string> const* backup_codes) {
    boost::json::object o;
    o["object"] = "totp";
    o["id"] = u.totp_id;
    if (secret.empty()) {
        o["secret"] = nullptr;
        o["uri"] = nullptr;
    } else {
        std::string account;
        for (auto const& i : u.identifications)
            if (i.id == u.primary_email_address_id || i.id == u.primary_phone_number_id) {
                account = i.value;
                break;
            }
        if (account.empty()) account = u.username.empty() ? u.id : u.username;
        o["secret"] = crypto::base32_encode(secret);
        o["uri"] = crypto::totp_uri(a.cfg.application_name, account, secret);
    }
    o["verified"] = u.totp_enabled;
    if (backup_codes) {
        boost::json::array codes;
        for (auto const& c : *backup_codes) codes.push_back(boost::json::string(c));
        o["backup_codes"] = std::move(codes);
    } else {
        o["backup_codes"] = nullptr;
    }
    o["created_at"] = u.totp_created_at;
    o["updated_at"] = u.totp_updated_at;
    return o;
}

std::optional<api_error> require_recent_verification(app const& a, store::session_record const& s,
                                                     store::user_record const& u, std::int64_t now_ms) {
    if (a.cfg.reverification_minutes == 0) return std::nullopt;
    std::int64_t const max_age_ms = static_cast<std::int64_t>(a.cfg.reverification_minutes) * 60'000;
    bool const second = u.two_factor_enabled && !supported_second_factors(a, u).empty();
    std::int64_t const at = second ? s.second_factor_at : s.first_factor_at;
    if (at > 0 && now_ms - at < max_age_ms) return std::nullopt;
    auto e = make_error(code::session_reverification_required);
    boost::json::object reverification;
    reverification["level"] = second ? "second_factor" : "first_factor";
    reverification["after_minutes"] = a.cfg.reverification_minutes;
    e.meta["session_verification"] = std::move(reverification);
    return e;
}

api_result<void> enroll_totp(store::write_txn& w, crypto::seal_key const& key, std::string_view user_id,
                             std::string_view base32_secret, std::int64_t now_ms) {
    auto secret = crypto::base32_decode(base32_secret);
    if (!secret || secret->size() < 10)
        return param_error(code::form_param_format_invalid, "totp_secret", "The TOTP secret must be base32.");
    auto u = w.users().get(user_id);
    if (!u) return store_error(u.error(), "enroll_totp");
    if (!*u) return make_error(code::resource_not_found);
    store::user_record const previous = **u;
    set_totp_secret(**u, key, *secret, true, now_ms);
    ::OPENSSL_cleanse(secret->data(), secret->size());
    if (auto r = w.users().put(**u, &previous); !r) return store_error(r.error(), "enroll_totp");
    return {};
}

// ---- required MFA (issue 14) ----

bool owes_mfa_setup(app const& a, store::user_record const& u) {
    return a.cfg.second_factor_required && !u.two_factor_enabled;
}

api_result<void> activate_mfa_sessions(app& a, store::write_txn& w, std::string_view user_id, std::int64_t now_ms) {
    auto list = w.sessions().of_user(user_id);
    if (!list) return store_error(list.error(), "activate_mfa_sessions");
    std::vector<std::string> activated;
    for (auto& s : *list) {
        if (s.status != "pending") continue;
        activated.push_back(s.id);
        s.status = "active";
        s.updated_at = now_ms;
        if (auto r = w.sessions().put(s); !r) return store_error(r.error(), "activate_mfa_sessions");
        auto c = w.clients().get(s.client_id);
        if (!c) return store_error(c.error(), "activate_mfa_sessions");
        if (*c) {
            (*c)->updated_at = now_ms;
            if (auto r = w.clients().put(**c); !r) return store_error(r.error(), "activate_mfa_sessions");
        }
    }
    drop_tokens_after_commit(a, w, std::move(activated));  // a cached token still says sts "pending"
    return {};
}

}  // namespace latchkey::server::api::domain
