#include "server/api/templates.hpp"

#include "server/api/views.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace latchkey::server::api {

namespace json = boost::json;

namespace {

std::string const* identification_value(store::user_record const& u, std::string const& id) {
    for (auto const& i : u.identifications)
        if (i.id == id) return &i.value;
    return nullptr;
}

bool identification_verified(store::user_record const& u, std::string const& id) {
    for (auto const& i : u.identifications)
        if (i.id == id) return i.verification.status == "verified";
    return false;
}

json::value str_or_null(std::string const& s) { return s.empty() ? json::value(nullptr) : json::value(s); }

/// The typed value of one shortcode path ("user.id", "user.public_metadata.plan.tier", "session.actor").
json::value lookup(store::user_record const& u, store::session_record const& s, std::string_view path) {
    if (path.starts_with("user.")) {
        std::string_view f = path.substr(5);
        for (std::string_view meta : {"public_metadata", "unsafe_metadata"}) {
            if (!f.starts_with(meta)) continue;
            json::value v = views::json_text(meta == "public_metadata" ? u.public_metadata : u.unsafe_metadata);
            std::string_view rest = f.substr(meta.size());
            while (!rest.empty()) {
                if (rest.front() != '.') return nullptr;
                rest.remove_prefix(1);
                auto dot = rest.find('.');
                std::string key(rest.substr(0, dot));
                if (!v.is_object()) return nullptr;
                auto const* next = v.get_object().if_contains(key);
                if (next == nullptr) return nullptr;
                json::value copy = *next;
                v = std::move(copy);
                rest = dot == std::string_view::npos ? std::string_view{} : rest.substr(dot);
            }
            return v;
        }
        if (f == "id") return json::value(u.id);
        if (f == "external_id") return str_or_null(u.external_id);
        if (f == "first_name") return str_or_null(u.first_name);
        if (f == "last_name") return str_or_null(u.last_name);
        if (f == "full_name") {
            std::string full = u.first_name;
            if (!u.last_name.empty()) full += (full.empty() ? "" : " ") + u.last_name;
            return str_or_null(full);
        }
        if (f == "username") return str_or_null(u.username);
        if (f == "image_url" || f == "profile_image_url")
            return json::value(u.image_url.empty() ? std::string(views::default_image_url()) : u.image_url);
        if (f == "has_image") return json::value(!u.image_url.empty());
        if (f == "primary_email_address") {
            auto const* v = identification_value(u, u.primary_email_address_id);
            return v != nullptr ? json::value(*v) : json::value(nullptr);
        }
        if (f == "primary_phone_number") {
            auto const* v = identification_value(u, u.primary_phone_number_id);
            return v != nullptr ? json::value(*v) : json::value(nullptr);
        }
        if (f == "email_verified") return json::value(identification_verified(u, u.primary_email_address_id));
        if (f == "phone_number_verified") return json::value(identification_verified(u, u.primary_phone_number_id));
        if (f == "two_factor_enabled") return json::value(u.two_factor_enabled);
        if (f == "created_at") return json::value(u.created_at / 1000);
        if (f == "updated_at") return json::value(u.updated_at / 1000);
        if (f == "last_sign_in_at")
            return u.last_sign_in_at == 0 ? json::value(nullptr) : json::value(u.last_sign_in_at / 1000);
        return nullptr;
    }
    if (path == "session.actor") return s.actor.empty() ? json::value(nullptr) : views::json_text(s.actor);
    if (path == "session.id") return json::value(s.id);
    return nullptr;
}

std::string as_text(json::value const& v) {
    if (v.is_string()) return std::string(v.get_string());
    if (v.is_null()) return {};
    return json::serialize(v);
}

json::value render(json::value const& v, store::user_record const& u, store::session_record const& s, int depth) {
    if (depth > 16) return nullptr;
    if (v.is_object()) {
        json::object out;
        for (auto const& kv : v.get_object()) out[kv.key()] = render(kv.value(), u, s, depth + 1);
        return out;
    }
    if (v.is_array()) {
        json::array out;
        for (auto const& e : v.get_array()) out.push_back(render(e, u, s, depth + 1));
        return out;
    }
    if (!v.is_string()) return v;
    std::string_view text = v.get_string();
    // Exactly one shortcode: the typed value.
    if (text.starts_with("{{") && text.ends_with("}}") && text.find("{{", 2) == std::string_view::npos) {
        std::string_view inner = text.substr(2, text.size() - 4);
        while (!inner.empty() && inner.front() == ' ') inner.remove_prefix(1);
        while (!inner.empty() && inner.back() == ' ') inner.remove_suffix(1);
        return lookup(u, s, inner);
    }
    // Shortcodes inside text: interpolated.
    std::string out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto open = text.find("{{", pos);
        if (open == std::string_view::npos) {
            out.append(text.substr(pos));
            break;
        }
        auto close = text.find("}}", open + 2);
        if (close == std::string_view::npos) {
            out.append(text.substr(pos));
            break;
        }
        out.append(text.substr(pos, open - pos));
        std::string_view inner = text.substr(open + 2, close - open - 2);
        while (!inner.empty() && inner.front() == ' ') inner.remove_prefix(1);
        while (!inner.empty() && inner.back() == ' ') inner.remove_suffix(1);
        out += as_text(lookup(u, s, inner));
        pos = close + 2;
    }
    return json::value(out);
}

}  // namespace

json::object render_template_claims(app const&, store::jwt_template_record const& tpl, store::user_record const& user,
                                    store::session_record const& session) {
    json::value claims = views::json_text(tpl.claims);
    json::value rendered = render(claims, user, session, 0);
    return rendered.is_object() ? rendered.get_object() : json::object{};
}

}  // namespace latchkey::server::api
