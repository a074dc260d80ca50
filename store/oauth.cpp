// The OAuth provider repository over a backend's ordered table (org_kv). Keys:
//   a\0<app id>                 -> application record
//   c\0<client id>              -> app id (unique)
//   g\0<code digest>            -> authorization code record
//   t\0<token digest>           -> token record
//   f\0<family id>\0<digest>    -> "" (tokens by family)
#include "store/oauth.hpp"

#include "store/codec.hpp"
#include "store/store.hpp"

namespace latchkey::store {

namespace {

std::string key(char tag, std::string_view a) {
    std::string k;
    k.reserve(a.size() + 2);
    k.push_back(tag);
    k.push_back('\0');
    k.append(a);
    return k;
}
std::string family_prefix(std::string_view family) {
    std::string k = key('f', family);
    k.push_back('\0');
    return k;
}

bool storable(std::string_view k) noexcept { return k.size() > 2 && k.size() <= max_key_size; }
bool part_ok(std::string_view p) noexcept { return !p.empty() && p.find('\0') == std::string_view::npos; }
boost::system::error_code invalid() noexcept { return make_error_code(errc::invalid_key); }

template <class T>
result<std::optional<T>> get_rec(org_kv const& kv, std::string const& k) {
    if (!storable(k)) return std::optional<T>{};
    auto v = kv.get(k);
    if (!v) return v.error();
    if (!*v) return std::optional<T>{};
    auto r = decode<T>(**v);
    if (!r) return r.error();
    return std::optional<T>{std::move(*r)};
}

}  // namespace

result<std::optional<oauth_app_record>> oauth_view::app(std::string_view id) const noexcept {
    return guarded([&] { return get_rec<oauth_app_record>(*kv_, key('a', id)); });
}

result<std::optional<oauth_app_record>> oauth_view::app_by_client_id(std::string_view client_id) const noexcept {
    return guarded([&]() -> result<std::optional<oauth_app_record>> {
        auto const k = key('c', client_id);
        if (!storable(k)) return std::optional<oauth_app_record>{};
        auto id = kv_->get(k);
        if (!id) return id.error();
        if (!*id) return std::optional<oauth_app_record>{};
        return get_rec<oauth_app_record>(*kv_, key('a', **id));
    });
}

result<std::vector<oauth_app_record>> oauth_view::apps() const noexcept {
    return guarded([&]() -> result<std::vector<oauth_app_record>> {
        std::vector<oauth_app_record> out;
        boost::system::error_code bad;
        auto r = kv_->scan(key('a', {}), [&](std::string_view, std::string_view v) {
            auto d = decode<oauth_app_record>(v);
            if (!d) {
                bad = d.error();
                return false;
            }
            out.push_back(std::move(*d));
            return true;
        });
        if (!r) return r.error();
        if (bad) return bad;
        return out;
    });
}

result<std::optional<oauth_code_record>> oauth_view::code(std::string_view digest) const noexcept {
    return guarded([&] { return get_rec<oauth_code_record>(*kv_, key('g', digest)); });
}

result<std::optional<oauth_token_record>> oauth_view::token(std::string_view digest) const noexcept {
    return guarded([&] { return get_rec<oauth_token_record>(*kv_, key('t', digest)); });
}

result<void> oauth_repo::put_app(oauth_app_record const& a, bool insert) noexcept {
    return guarded([&]() -> result<void> {
        if (!part_ok(a.id) || !part_ok(a.client_id)) return invalid();
        auto const ak = key('a', a.id), ck = key('c', a.client_id);
        if (!storable(ak) || !storable(ck)) return invalid();
        if (insert) {
            if (auto r = w_->put(ck, a.id, true); !r) return r;
        } else {
            auto held = w_->get(ck);
            if (!held) return held.error();
            if (!*held || **held != a.id) return make_error_code(errc::invalid_key);  // client_id never changes
        }
        return w_->put(ak, encode(a), insert);
    });
}

result<void> oauth_repo::remove_app(std::string_view id) noexcept {
    return guarded([&]() -> result<void> {
        if (!part_ok(id)) return {};
        auto a = get_rec<oauth_app_record>(*w_, key('a', id));
        if (!a) return a.error();
        if (!*a) return {};
        if (auto r = w_->del(key('c', (*a)->client_id)); !r) return r;
        return w_->del(key('a', id));
    });
}

result<void> oauth_repo::put_code(oauth_code_record const& c) noexcept {
    return guarded([&]() -> result<void> {
        auto const k = key('g', c.digest);
        if (!part_ok(c.digest) || !storable(k)) return invalid();
        return w_->put(k, encode(c), false);
    });
}

result<void> oauth_repo::put_token(oauth_token_record const& t) noexcept {
    return guarded([&]() -> result<void> {
        auto const k = key('t', t.digest);
        if (!part_ok(t.digest) || !storable(k)) return invalid();
        if (part_ok(t.family_id)) {
            auto const fk = family_prefix(t.family_id) + t.digest;
            if (!storable(fk)) return invalid();
            if (auto r = w_->put(fk, {}, false); !r) return r;
        }
        return w_->put(k, encode(t), false);
    });
}

result<std::size_t> oauth_repo::revoke_family(std::string_view family_id, std::string_view reason) noexcept {
    return guarded([&]() -> result<std::size_t> {
        if (!part_ok(family_id)) return std::size_t{0};
        auto const prefix = family_prefix(family_id);
        std::vector<std::string> digests;
        auto r = w_->scan(prefix, [&](std::string_view k, std::string_view) {
            digests.emplace_back(k.substr(prefix.size()));
            return true;
        });
        if (!r) return r.error();
        std::size_t live = 0;
        for (auto const& d : digests) {
            auto t = get_rec<oauth_token_record>(*w_, key('t', d));
            if (!t) return t.error();
            if (!*t || (*t)->revoked) continue;
            (*t)->revoked = true;
            (*t)->revocation_reason = std::string(reason);
            ++live;
            if (auto p = w_->put(key('t', d), encode(**t), false); !p) return p.error();
        }
        return live;
    });
}

}  // namespace latchkey::store
