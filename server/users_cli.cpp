#include "server/users_cli.hpp"

#include "crypto/password.hpp"
#include "crypto/random.hpp"
#include "server/api/frontend/common.hpp"
#include "server/command_store.hpp"
#include "server/migrate/clerk.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <chrono>
#include <fstream>
#include <iostream>
#include <optional>
#include <string_view>

#include <sys/stat.h>

namespace latchkey::server {

namespace json = boost::json;

namespace {

constexpr std::string_view options[] = {"--email",      "--phone",     "--username",    "--password",
                                        "--first-name", "--last-name", "--external-id", "--limit",
                                        "--offset",     "--query",     "--in",          "--out"};

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::optional<std::string> opt(std::vector<std::pair<std::string, std::string>> const& o, std::string_view name) {
    for (auto const& [k, v] : o)
        if (k == name) return v;
    return std::nullopt;
}

std::string json_text_or_empty(json::object const& o, std::string_view key) {
    auto const* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) return {};
    if (!v->is_string()) throw std::runtime_error(std::string(key) + " must be a string");
    return std::string(v->get_string());
}

json::value parse_object_text(std::string const& text) {
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    return ec ? json::value(json::object{}) : v;
}

/// The export line of a user (the import format). The digest is split into the hasher and the digest proper.
json::object user_line(store::user_record const& u, bool with_secrets) {
    json::object o;
    o["id"] = u.id;
    json::array emails, phones;
    for (auto const& i : u.identifications) {
        json::object x;
        bool const verified = i.verification.status == "verified";
        if (i.kind == "email_address") {
            x["email_address"] = i.value;
            x["verified"] = verified;
            if (i.id == u.primary_email_address_id) o["primary_email_address"] = i.value;
            emails.push_back(std::move(x));
        } else if (i.kind == "phone_number") {
            x["phone_number"] = i.value;
            x["verified"] = verified;
            if (i.id == u.primary_phone_number_id) o["primary_phone_number"] = i.value;
            phones.push_back(std::move(x));
        }
    }
    o["email_addresses"] = std::move(emails);
    o["phone_numbers"] = std::move(phones);
    o["username"] = u.username;
    o["first_name"] = u.first_name;
    o["last_name"] = u.last_name;
    o["external_id"] = u.external_id;
    if (with_secrets) {
        std::string_view d = u.password_digest;
        std::string hasher;
        if (auto sep = d.find("$$"); sep != std::string_view::npos && !d.starts_with('$')) {
            hasher = std::string(d.substr(0, sep));
            d.remove_prefix(sep + 2);
        } else if (!d.empty()) {
            hasher = std::string(crypto::detect_hasher(d));
        }
        o["password_digest"] = d.empty() ? json::value(nullptr) : json::value(d);
        o["password_hasher"] = hasher.empty() ? json::value(nullptr) : json::value(hasher);
        o["private_metadata"] = parse_object_text(u.private_metadata);
    }
    o["public_metadata"] = parse_object_text(u.public_metadata);
    o["unsafe_metadata"] = parse_object_text(u.unsafe_metadata);
    o["banned"] = u.banned;
    o["created_at"] = u.created_at;
    o["last_sign_in_at"] = u.last_sign_in_at;
    return o;
}

/// A user record from an import line (or the create command's options, in the same shape). Throws
/// std::runtime_error naming the problem.
store::user_record user_from(json::object const& o, std::int64_t now) {
    store::user_record u;
    auto id = json_text_or_empty(o, "id");
    u.id = id.starts_with("user_") ? id : crypto::new_id("user");
    u.username = json_text_or_empty(o, "username");
    u.first_name = json_text_or_empty(o, "first_name");
    u.last_name = json_text_or_empty(o, "last_name");
    u.external_id = json_text_or_empty(o, "external_id");
    auto add_email = [&](std::string const& raw, bool verified) {
        auto e = api::frontend::normalize_email(raw);
        if (!e) throw std::runtime_error("invalid email address '" + raw + "'");
        u.identifications.push_back(migrate::identification({}, "email_address", *e, verified, now));
    };
    auto add_phone = [&](std::string const& raw, bool verified) {
        auto p = api::frontend::normalize_phone(raw);
        if (!p) throw std::runtime_error("invalid phone number '" + raw + "'");
        u.identifications.push_back(migrate::identification({}, "phone_number", *p, verified, now));
    };
    // Imported addresses count as verified unless the line says otherwise (the source system verified them).
    if (auto e = json_text_or_empty(o, "email_address"); !e.empty()) add_email(e, true);
    if (auto p = json_text_or_empty(o, "phone_number"); !p.empty()) add_phone(p, true);
    for (auto const* key : {"email_addresses", "phone_numbers"}) {
        auto const* list = o.if_contains(key);
        if (list == nullptr || list->is_null()) continue;
        if (!list->is_array()) throw std::runtime_error(std::string(key) + " must be an array");
        bool const email = std::string_view(key) == "email_addresses";
        for (auto const& item : list->get_array()) {
            std::string value;
            bool verified = true;
            if (item.is_string()) {
                value = std::string(item.get_string());
            } else if (item.is_object()) {
                value = json_text_or_empty(item.get_object(), email ? "email_address" : "phone_number");
                if (auto const* v = item.get_object().if_contains("verified"); v && v->is_bool())
                    verified = v->get_bool();
            } else {
                throw std::runtime_error(std::string(key) + " items must be strings or objects");
            }
            email ? add_email(value, verified) : add_phone(value, verified);
        }
    }
    auto primary = [&](char const* kind, std::string const& wanted) {
        std::string found;
        for (auto const& i : u.identifications)
            if (i.kind == kind && (found.empty() || i.value == wanted)) found = i.id;
        return found;
    };
    u.primary_email_address_id = primary("email_address", json_text_or_empty(o, "primary_email_address"));
    u.primary_phone_number_id = primary("phone_number", json_text_or_empty(o, "primary_phone_number"));
    if (u.identifications.empty() && u.username.empty())
        throw std::runtime_error("a user needs an email address, a phone number or a username");

    auto const digest = json_text_or_empty(o, "password_digest");
    auto const password = json_text_or_empty(o, "password");
    if (!digest.empty()) {
        std::string hasher = json_text_or_empty(o, "password_hasher");
        if (hasher.empty()) hasher = std::string(crypto::detect_hasher(digest));
        if (hasher.empty() || !crypto::is_supported_hasher(hasher))
            throw std::runtime_error("unsupported password_hasher '" + hasher + "'");
        if (!crypto::digest_matches_hasher(digest, hasher))
            throw std::runtime_error("password_digest is not a valid " + hasher + " digest");
        // As the BAPI stores imports: verified with the foreign hasher, re-hashed with ours at the next sign-in.
        u.password_digest = crypto::detect_hasher(digest) == hasher ? digest : hasher + "$$" + digest;
        u.password_last_updated_at = now;
    } else if (!password.empty()) {
        auto h = crypto::hash_password(password);
        if (!h) throw std::runtime_error("cannot hash the password");
        u.password_digest = std::move(*h);
        u.password_last_updated_at = now;
    }
    for (auto const* key : {"public_metadata", "private_metadata", "unsafe_metadata"}) {
        auto const* v = o.if_contains(key);
        if (v == nullptr || v->is_null()) continue;
        if (!v->is_object()) throw std::runtime_error(std::string(key) + " must be an object");
        std::string text = json::serialize(*v);
        if (std::string_view(key) == "public_metadata")
            u.public_metadata = std::move(text);
        else if (std::string_view(key) == "private_metadata")
            u.private_metadata = std::move(text);
        else
            u.unsafe_metadata = std::move(text);
    }
    if (auto const* b = o.if_contains("banned"); b && b->is_bool()) u.banned = b->get_bool();
    u.created_at = now;
    if (auto const* c = o.if_contains("created_at"); c && c->is_int64() && c->get_int64() > 0)
        u.created_at = c->get_int64();
    u.updated_at = now;
    return u;
}

std::string put_error(boost::system::error_code ec, store::unique_field f) {
    if (ec == store::make_error_code(store::errc::key_exists)) {
        auto const name = store::param_name(f);
        return name.empty() ? "the id is taken" : "the " + std::string(name) + " is taken by another user";
    }
    return ec.message();
}

}  // namespace

bool is_users_option(std::string const& flag) {
    for (auto o : options)
        if (o == flag) return true;
    return false;
}

int users_main(conf::config const& cfg, std::string const& sub,
               std::vector<std::pair<std::string, std::string>> const& o, std::istream& in, std::ostream& out,
               std::ostream& err) {
    if (sub != "create" && sub != "list" && sub != "export" && sub != "import") {
        err << "latchkey: users: expected create, list, export or import\n";
        return 2;
    }
    auto db = open_command_store(cfg, "users", err);
    if (!db) return 2;
    auto insert = [&](store::user_record const& u) -> std::string {
        store::unique_field conflict = store::unique_field::none;
        auto r = db->with_write([&](store::write_txn& w) { return w.users().put(u, nullptr, &conflict); });
        return r ? std::string{} : put_error(r.error(), conflict);
    };

    if (sub == "create") {
        json::object line;
        for (auto [flag, key] : {std::pair{"--email", "email_address"}, std::pair{"--phone", "phone_number"},
                                 std::pair{"--username", "username"}, std::pair{"--password", "password"},
                                 std::pair{"--first-name", "first_name"}, std::pair{"--last-name", "last_name"},
                                 std::pair{"--external-id", "external_id"}})
            if (auto v = opt(o, flag)) line[key] = *v;
        try {
            auto u = user_from(line, now_ms());
            u.id = crypto::new_id("user");
            if (auto e = insert(u); !e.empty()) {
                err << "latchkey: users create: " << e << "\n";
                return 1;
            }
            out << json::serialize(user_line(u, false)) << "\n";
            return 0;
        } catch (std::exception const& e) {
            err << "latchkey: users create: " << e.what() << "\n";
            return 2;
        }
    }

    if (sub == "list" || sub == "export") {
        bool const all = sub == "export";
        store::user_filter f;
        f.order_by = all ? "+created_at" : "-created_at";
        if (auto q = opt(o, "--query")) f.query = *q;
        std::size_t limit = all ? SIZE_MAX : 100, offset = 0;
        try {
            if (auto l = opt(o, "--limit")) limit = std::stoul(*l);
            if (auto s = opt(o, "--offset")) offset = std::stoul(*s);
        } catch (std::exception const&) {
            err << "latchkey: users " << sub << ": --limit and --offset take numbers\n";
            return 2;
        }
        std::ofstream file;
        std::ostream* dst = &out;
        if (auto path = opt(o, "--out")) {
            // Exports hold password digests and private metadata: owner-only.
            { std::ofstream create(*path, std::ios::trunc); }
            ::chmod(path->c_str(), 0600);
            file.open(*path, std::ios::trunc);
            if (!file) {
                err << "latchkey: users export: cannot write " << *path << "\n";
                return 2;
            }
            dst = &file;
        }
        // Pages of 1000 in their own read txns: a long export never pins one snapshot of a live store.
        std::size_t written = 0;
        while (written < limit) {
            f.offset = offset + written;
            f.limit = std::min<std::size_t>(1000, limit - written);
            auto page = db->with_read([&](store::read_txn& t) { return t.users().list(f); });
            if (!page) {
                err << "latchkey: users " << sub << ": " << page.error().message() << "\n";
                return 1;
            }
            for (auto const& u : *page) *dst << json::serialize(user_line(u, all)) << "\n";
            written += page->size();
            if (page->size() < f.limit) break;
        }
        dst->flush();
        return 0;
    }

    // import
    std::ifstream file;
    std::istream* src = &in;
    if (auto path = opt(o, "--in"); path && *path != "-") {
        file.open(*path);
        if (!file) {
            err << "latchkey: users import: cannot read " << *path << "\n";
            return 2;
        }
        src = &file;
    }
    std::size_t imported = 0, failed = 0, lineno = 0;
    std::string text;
    while (std::getline(*src, text)) {
        ++lineno;
        if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
        std::string problem;
        try {
            boost::system::error_code ec;
            auto v = json::parse(text, ec);
            if (ec || !v.is_object()) throw std::runtime_error("not a JSON object");
            auto u = user_from(v.get_object(), now_ms());
            problem = insert(u);
        } catch (std::exception const& e) {
            problem = e.what();
        }
        if (problem.empty()) {
            ++imported;
        } else {
            ++failed;
            err << "line " << lineno << ": " << problem << "\n";
        }
    }
    json::object summary;
    summary["imported"] = imported;
    summary["failed"] = failed;
    out << json::serialize(summary) << "\n";
    return failed == 0 ? 0 : 1;
}

}  // namespace latchkey::server
