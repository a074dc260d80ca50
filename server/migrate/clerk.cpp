#include "server/migrate/clerk.hpp"

#include "conf/load.hpp"
#include "crypto/password.hpp"
#include "crypto/random.hpp"
#include "crypto/totp.hpp"
#include "server/api/frontend/common.hpp"
#include "server/utc_time.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <charconv>
#include <ctime>

namespace latchkey::server::migrate {

namespace json = boost::json;

store::identification_record identification(std::string id, std::string kind, std::string value, bool verified,
                                            std::int64_t now) {
    store::identification_record i;
    i.id = id.empty() ? crypto::new_id("idn") : std::move(id);
    i.kind = std::move(kind);
    i.value = std::move(value);
    if (verified) {
        i.verification.status = "verified";
        i.verification.strategy = "admin";
        i.verification.verified_at = now;
    }
    i.created_at = i.updated_at = now;
    return i;
}

// ---------------------------------------------------------------------------------------------------------
// CSV

csv_reader::csv_reader(std::string_view text) noexcept : text_(text) {
    if (text_.starts_with("\xEF\xBB\xBF")) pos_ = 3;
}

std::optional<csv_record> csv_reader::next() {
    // Blank lines between records are skipped.
    while (pos_ < text_.size() && (text_[pos_] == '\n' || text_[pos_] == '\r')) {
        if (text_[pos_] == '\n') ++line_;
        ++pos_;
    }
    if (pos_ >= text_.size()) return std::nullopt;
    csv_record rec;
    rec.line = line_;
    std::string field;
    bool too_long = false;
    auto put = [&](char c) {
        if (field.size() >= max_cell_bytes) {
            too_long = true;
            return;
        }
        field += c;
    };
    auto fail = [&](std::string why) {
        // Skip to the end of this physical line (the record's remains) and report.
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
        if (pos_ < text_.size()) {
            ++pos_;
            ++line_;
        }
        rec.fields.clear();
        rec.error = std::move(why);
        return rec;
    };
    while (true) {
        field.clear();
        if (pos_ < text_.size() && text_[pos_] == '"') {
            std::size_t const open_line = line_;
            ++pos_;
            bool closed = false;
            while (pos_ < text_.size()) {
                char const c = text_[pos_++];
                if (c == '"') {
                    if (pos_ < text_.size() && text_[pos_] == '"') {
                        put('"');
                        ++pos_;
                        continue;
                    }
                    closed = true;
                    break;
                }
                if (c == '\n') ++line_;
                put(c);
            }
            if (!closed) {
                rec.fields.clear();
                rec.error =
                    "unbalanced quote: the quoted field opened on line " + std::to_string(open_line) + " never closes";
                return rec;
            }
            if (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '\n' && text_[pos_] != '\r')
                return fail("text after a closing quote");
        } else {
            while (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '\n' && text_[pos_] != '\r') {
                if (text_[pos_] == '"') return fail("a quote inside an unquoted field");
                put(text_[pos_++]);
            }
        }
        if (too_long) {
            // Resynchronise at the end of the record: finish the fields of this line.
            return fail("a cell is longer than " + std::to_string(max_cell_bytes) + " bytes");
        }
        rec.fields.push_back(std::move(field));
        if (pos_ >= text_.size()) return rec;
        char const c = text_[pos_++];
        if (c == ',') continue;
        if (c == '\r' && pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
        ++line_;
        return rec;
    }
}

// ---------------------------------------------------------------------------------------------------------
// Users

namespace {

/// A list cell: Clerk's migration tooling splits these on '|' or ','.
std::vector<std::string> split_list(std::string_view cell) { return conf::split_list(cell, "|,"); }

struct row_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Adds an address (normalised) unless the user has it already; returns its identification id.
std::string add_address(store::user_record& u, bool email, std::string const& raw, bool verified, std::int64_t now,
                        std::string id = {}) {
    std::optional<std::string> v = email ? api::frontend::normalize_email(raw) : api::frontend::normalize_phone(raw);
    if (!v) throw row_error(std::string(email ? "invalid email address '" : "invalid phone number '") + raw + "'");
    for (auto& i : u.identifications)
        if (i.value == *v) {
            if (verified && i.verification.status != "verified") {
                i.verification.status = "verified";
                i.verification.strategy = "admin";
                i.verification.verified_at = now;
            }
            return i.id;
        }
    u.identifications.push_back(
        identification(std::move(id), email ? "email_address" : "phone_number", *v, verified, now));
    return u.identifications.back().id;
}

void set_digest(store::user_record& u, std::string const& digest, std::string hasher, std::int64_t now) {
    if (digest.empty()) {
        if (!hasher.empty()) throw row_error("password_hasher '" + hasher + "' without a password_digest");
        return;
    }
    if (hasher.empty()) hasher = std::string(crypto::detect_hasher(digest));
    if (hasher.empty() || !crypto::is_supported_hasher(hasher))
        throw row_error("unknown password_hasher '" + hasher + "'");
    if (!crypto::digest_matches_hasher(digest, hasher))
        throw row_error("password_digest is not a valid " + hasher + " digest");
    // Verified with the foreign hasher at the first sign-in, then re-hashed with the instance's own.
    u.password_digest = crypto::detect_hasher(digest) == hasher ? digest : hasher + "$$" + digest;
    u.password_last_updated_at = now;
}

void finish(store::user_record& u) {
    if (u.identifications.empty() && u.username.empty())
        throw row_error("a user needs an email address, a phone number or a username");
    if (!u.username.empty()) {
        auto lower = u.username;
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
        u.username = lower;
    }
}

std::string text_of(json::object const& o, std::string_view key) {
    auto const* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) return {};
    if (!v->is_string()) throw row_error(std::string(key) + " must be a string");
    return std::string(v->get_string());
}

std::int64_t time_of(json::object const& o, std::string_view key) {
    auto const* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) return 0;
    if (v->is_int64() && v->get_int64() >= 0) return v->get_int64();
    if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
    if (v->is_string())
        if (auto t = parse_rfc3339(v->get_string())) return *t;
    throw row_error(std::string(key) + " must be a time (ms since the epoch or RFC 3339)");
}

}  // namespace

bool valid_user_id(std::string_view id) noexcept {
    if (!id.starts_with("user_") || id.size() <= 5 || id.size() > 69) return false;
    return std::all_of(id.begin() + 5, id.end(), [](unsigned char c) { return std::isalnum(c) != 0; });
}

bool valid_totp_secret(std::string_view secret) noexcept {
    // What enrolment takes (domain::enroll_totp): RFC 4648 base32 of at least 10 bytes.
    auto raw = crypto::base32_decode(secret);
    return raw && raw->size() >= 10 && raw->size() <= 128;
}

std::string check_csv_header(std::vector<std::string> const& header) {
    if (header.empty()) return "empty header";
    std::vector<std::string_view> seen;
    for (auto const& h : header) {
        if (std::find(std::begin(csv_columns), std::end(csv_columns), h) == std::end(csv_columns))
            return "unknown column '" + h + "' (a Clerk Dashboard export has: id, first_name, ...)";
        if (std::find(seen.begin(), seen.end(), h) != seen.end()) return "column '" + h + "' twice";
        seen.push_back(h);
    }
    if (std::find(seen.begin(), seen.end(), "id") == seen.end()) return "no id column";
    return {};
}

user_row user_from_csv(csv_record const& rec, std::vector<std::string> const& header, std::int64_t now) {
    user_row r;
    r.line = rec.line;
    if (!rec.error.empty()) {
        r.error = rec.error;
        return r;
    }
    auto cell = [&](std::string_view name) -> std::string const& {
        static std::string const none;
        for (std::size_t i = 0; i < header.size() && i < rec.fields.size(); ++i)
            if (header[i] == name) return rec.fields[i];
        return none;
    };
    r.id = cell("id");
    try {
        if (rec.fields.size() != header.size())
            throw row_error("expected " + std::to_string(header.size()) + " fields, found " +
                            std::to_string(rec.fields.size()));
        if (!valid_user_id(r.id)) throw row_error("invalid user id '" + r.id.substr(0, 80) + "'");
        auto& u = r.user;
        u.id = r.id;
        u.first_name = cell("first_name");
        u.last_name = cell("last_name");
        u.username = cell("username");
        for (auto const& e : split_list(cell("verified_email_addresses"))) add_address(u, true, e, true, now);
        for (auto const& e : split_list(cell("unverified_email_addresses"))) add_address(u, true, e, false, now);
        for (auto const& p : split_list(cell("verified_phone_numbers"))) add_address(u, false, p, true, now);
        for (auto const& p : split_list(cell("unverified_phone_numbers"))) add_address(u, false, p, false, now);
        // A primary is one of the user's addresses; Clerk only makes verified ones primary.
        if (auto const& pe = cell("primary_email_address"); !pe.empty())
            u.primary_email_address_id = add_address(u, true, pe, true, now);
        if (auto const& pp = cell("primary_phone_number"); !pp.empty())
            u.primary_phone_number_id = add_address(u, false, pp, true, now);
        for (auto const& i : u.identifications) {
            if (i.verification.status != "verified") continue;
            if (i.kind == "email_address" && u.primary_email_address_id.empty()) u.primary_email_address_id = i.id;
            if (i.kind == "phone_number" && u.primary_phone_number_id.empty()) u.primary_phone_number_id = i.id;
        }
        set_digest(u, cell("password_digest"), cell("password_hasher"), now);
        if (auto const& t = cell("totp_secret"); !t.empty()) {
            if (!valid_totp_secret(t)) throw row_error("totp_secret is not a base32 secret");
            r.totp_secret = t;
        }
        finish(u);
        u.created_at = u.updated_at = now;
    } catch (row_error const& e) {
        r.error = e.what();
    }
    return r;
}

user_row user_from_json(json::value const& v, std::size_t position, std::int64_t now) {
    user_row r;
    r.line = position;
    try {
        if (!v.is_object()) throw row_error("not a JSON object");
        auto const& o = v.get_object();
        r.id = text_of(o, "id");
        if (!valid_user_id(r.id)) throw row_error("invalid user id '" + r.id.substr(0, 80) + "'");
        auto& u = r.user;
        u.id = r.id;
        u.first_name = text_of(o, "first_name");
        u.last_name = text_of(o, "last_name");
        u.username = text_of(o, "username");
        u.external_id = text_of(o, "external_id");
        std::string const primary_email_id = text_of(o, "primary_email_address_id");
        std::string const primary_phone_id = text_of(o, "primary_phone_number_id");
        for (auto const* key : {"email_addresses", "phone_numbers"}) {
            bool const email = std::string_view(key) == "email_addresses";
            auto const* list = o.if_contains(key);
            if (list == nullptr || list->is_null()) continue;
            if (!list->is_array()) throw row_error(std::string(key) + " must be an array");
            for (auto const& item : list->get_array()) {
                if (item.is_string()) {
                    add_address(u, email, std::string(item.get_string()), true, now);
                    continue;
                }
                if (!item.is_object()) throw row_error(std::string(key) + " items must be strings or objects");
                auto const& io = item.get_object();
                bool verified = true;
                if (auto const* ver = io.if_contains("verification")) {
                    // The BAPI shape: no verification (null) is unverified.
                    auto const* st = ver->is_object() ? ver->get_object().if_contains("status") : nullptr;
                    verified = st && st->is_string() && st->get_string() == "verified";
                } else if (auto const* vb = io.if_contains("verified"); vb && vb->is_bool()) {
                    verified = vb->get_bool();
                }
                std::string id = text_of(io, "id");
                if (!id.empty() && !id.starts_with("idn_"))
                    throw row_error("invalid identification id '" + id.substr(0, 80) + "'");
                auto const got =
                    add_address(u, email, text_of(io, email ? "email_address" : "phone_number"), verified, now, id);
                if (!id.empty() && got == id && (id == primary_email_id || id == primary_phone_id)) {
                    (email ? u.primary_email_address_id : u.primary_phone_number_id) = id;
                }
            }
        }
        // The simpler line shape names its primaries by value.
        for (auto const& [key, email] : {std::pair{"primary_email_address", true}, {"primary_phone_number", false}}) {
            auto const value = text_of(o, key);
            if (value.empty()) continue;
            (email ? u.primary_email_address_id : u.primary_phone_number_id) = add_address(u, email, value, true, now);
        }
        for (auto const& i : u.identifications) {
            if (i.verification.status != "verified") continue;
            if (i.kind == "email_address" && u.primary_email_address_id.empty()) u.primary_email_address_id = i.id;
            if (i.kind == "phone_number" && u.primary_phone_number_id.empty()) u.primary_phone_number_id = i.id;
        }
        for (auto const* key : {"public_metadata", "private_metadata", "unsafe_metadata"}) {
            auto const* m = o.if_contains(key);
            if (m == nullptr || m->is_null()) continue;
            if (!m->is_object()) throw row_error(std::string(key) + " must be an object");
            std::string text = json::serialize(*m);
            std::string_view const k(key);
            (k == "public_metadata"    ? u.public_metadata
             : k == "private_metadata" ? u.private_metadata
                                       : u.unsafe_metadata) = std::move(text);
        }
        if (auto const* b = o.if_contains("banned"); b && !b->is_null()) {
            if (!b->is_bool()) throw row_error("banned must be true or false");
            u.banned = b->get_bool();
        }
        if (auto const* b = o.if_contains("locked"); b && b->is_bool()) u.locked = b->get_bool();
        u.legal_accepted_at = time_of(o, "legal_accepted_at");
        u.last_sign_in_at = time_of(o, "last_sign_in_at");
        set_digest(u, text_of(o, "password_digest"), text_of(o, "password_hasher"), now);
        if (auto t = text_of(o, "totp_secret"); !t.empty()) {
            if (!valid_totp_secret(t)) throw row_error("totp_secret is not a base32 secret");
            r.totp_secret = std::move(t);
        }
        finish(u);
        auto const created = time_of(o, "created_at");
        u.created_at = created > 0 ? created : now;
        auto const updated = time_of(o, "updated_at");
        u.updated_at = updated > 0 ? updated : u.created_at;
    } catch (row_error const& e) {
        r.error = e.what();
    }
    return r;
}

// ---------------------------------------------------------------------------------------------------------
// Export

std::pair<std::string, std::string> split_digest(std::string_view d) {
    if (d.empty()) return {};
    if (auto sep = d.find("$$");
        sep != std::string_view::npos && sep > 0 && crypto::is_supported_hasher(d.substr(0, sep)))
        return {std::string(d.substr(0, sep)), std::string(d.substr(sep + 2))};
    return {std::string(crypto::detect_hasher(d)), std::string(d)};
}

namespace {

std::string csv_cell(std::string_view v) {
    if (v.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(v);
    std::string out = "\"";
    for (char c : v) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
    return out;
}

}  // namespace

std::string csv_header_line() {
    std::string out;
    for (auto c : csv_columns) {
        if (!out.empty()) out += ',';
        out += c;
    }
    return out + "\r\n";
}

std::string csv_line(store::user_record const& u, bool with_secrets) {
    std::string primary_email, primary_phone, ve, ue, vp, up;
    auto append = [](std::string& list, std::string const& v) {
        if (!list.empty()) list += list_separator;
        list += v;
    };
    for (auto const& i : u.identifications) {
        bool const verified = i.verification.status == "verified";
        if (i.kind == "email_address") {
            append(verified ? ve : ue, i.value);
            if (i.id == u.primary_email_address_id) primary_email = i.value;
        } else if (i.kind == "phone_number") {
            append(verified ? vp : up, i.value);
            if (i.id == u.primary_phone_number_id) primary_phone = i.value;
        }
    }
    auto [hasher, digest] = with_secrets ? split_digest(u.password_digest) : std::pair<std::string, std::string>{};
    std::string const cells[] = {u.id,
                                 u.first_name,
                                 u.last_name,
                                 u.username,
                                 primary_email,
                                 primary_phone,
                                 ve,
                                 ue,
                                 vp,
                                 up,
                                 std::string{} /* totp: none stored */,
                                 digest,
                                 hasher};
    std::string out;
    for (std::size_t i = 0; i < std::size(cells); ++i) {
        if (i > 0) out += ',';
        out += csv_cell(cells[i]);
    }
    return out + "\r\n";
}

json::object json_user(store::user_record const& u) {
    json::object o;
    o["id"] = u.id;
    o["first_name"] = u.first_name.empty() ? json::value(nullptr) : json::value(u.first_name);
    o["last_name"] = u.last_name.empty() ? json::value(nullptr) : json::value(u.last_name);
    o["username"] = u.username.empty() ? json::value(nullptr) : json::value(u.username);
    o["external_id"] = u.external_id.empty() ? json::value(nullptr) : json::value(u.external_id);
    json::array emails, phones;
    for (auto const& i : u.identifications) {
        json::object x;
        x["id"] = i.id;
        x[i.kind == "email_address" ? "email_address" : "phone_number"] = i.value;
        x["verification"] =
            json::object{{"status", i.verification.status.empty() ? "unverified" : i.verification.status}};
        (i.kind == "email_address" ? emails : phones).push_back(std::move(x));
    }
    o["email_addresses"] = std::move(emails);
    o["phone_numbers"] = std::move(phones);
    o["primary_email_address_id"] =
        u.primary_email_address_id.empty() ? json::value(nullptr) : json::value(u.primary_email_address_id);
    o["primary_phone_number_id"] =
        u.primary_phone_number_id.empty() ? json::value(nullptr) : json::value(u.primary_phone_number_id);
    for (auto const& [key, text] : {std::pair{"public_metadata", &u.public_metadata},
                                    {"private_metadata", &u.private_metadata},
                                    {"unsafe_metadata", &u.unsafe_metadata}}) {
        boost::system::error_code ec;
        auto m = json::parse(*text, ec);
        o[key] = ec || !m.is_object() ? json::value(json::object{}) : std::move(m);
    }
    o["banned"] = u.banned;
    o["locked"] = u.locked;
    o["legal_accepted_at"] = u.legal_accepted_at > 0 ? json::value(u.legal_accepted_at) : json::value(nullptr);
    o["last_sign_in_at"] = u.last_sign_in_at > 0 ? json::value(u.last_sign_in_at) : json::value(nullptr);
    o["created_at"] = u.created_at;
    o["updated_at"] = u.updated_at;
    return o;
}

std::string rfc3339(std::int64_t ms) {
    char millis[8];
    std::snprintf(millis, sizeof millis, ".%03dZ", static_cast<int>(ms % 1000));
    return format_utc(ms / 1000, "%Y-%m-%dT%H:%M:%S") + millis;
}

std::optional<std::int64_t> parse_rfc3339(std::string_view s) {
    // YYYY-MM-DDTHH:MM:SS[.fff...](Z|+HH:MM|-HH:MM)
    auto num = [&](std::size_t at, std::size_t n) -> std::optional<int> {
        if (at + n > s.size()) return std::nullopt;
        int v = 0;
        auto const [p, ec] = std::from_chars(s.data() + at, s.data() + at + n, v);
        if (ec != std::errc{} || p != s.data() + at + n) return std::nullopt;
        return v;
    };
    if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' ||
        s[16] != ':')
        return std::nullopt;
    auto const y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2), se = num(17, 2);
    if (!y || !mo || !d || !h || !mi || !se || *mo < 1 || *mo > 12 || *d < 1 || *d > 31 || *h > 23 || *mi > 59 ||
        *se > 60)
        return std::nullopt;
    std::size_t i = 19;
    int frac_ms = 0;
    if (i < s.size() && s[i] == '.') {
        ++i;
        int digits = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
            if (digits < 3) frac_ms = frac_ms * 10 + (s[i] - '0');
            ++digits;
            ++i;
        }
        if (digits == 0) return std::nullopt;
        for (int k = digits; k < 3; ++k) frac_ms *= 10;
    }
    int offset_min = 0;
    if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
        ++i;
    } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        auto const oh = num(i + 1, 2), om = num(i + 4, 2);
        if (!oh || !om) return std::nullopt;
        offset_min = (*oh * 60 + *om) * (s[i] == '-' ? -1 : 1);
        i += 6;
    } else {
        return std::nullopt;
    }
    if (i != s.size()) return std::nullopt;
    // Days from civil (Howard Hinnant's algorithm).
    int yy = *y - (*mo <= 2 ? 1 : 0);
    int const era = (yy >= 0 ? yy : yy - 399) / 400;
    int const yoe = yy - era * 400;
    int const doy = (153 * (*mo + (*mo > 2 ? -3 : 9)) + 2) / 5 + *d - 1;
    int const doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    std::int64_t const days = std::int64_t{era} * 146097 + doe - 719468;
    std::int64_t const secs =
        days * 86400 + std::int64_t{*h} * 3600 + std::int64_t{*mi} * 60 + *se - std::int64_t{offset_min} * 60;
    return secs * 1000 + frac_ms;
}

}  // namespace latchkey::server::migrate
