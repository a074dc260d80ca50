// The OAuth provider repository over a backend's ordered table (org_kv). Keys:
//   a\0<app id>                 -> application record
//   c\0<client id>              -> app id (unique)
//   g\0<code digest>            -> authorization code record
//   t\0<token digest>           -> token record
//   f\0<family id>\0<digest>    -> "" (tokens by family)
#include "store/oauth.hpp"

#include "store/kv_family.hpp"

namespace latchkey::store {

using kv_family::get_rec;
using kv_family::get_via;
using kv_family::if_stored;
using kv_family::invalid;
using kv_family::key;
using kv_family::part_ok;
using kv_family::prefix2;
using kv_family::put_at;
using kv_family::put_uniquely_named;
using kv_family::records_under;
using kv_family::storable;

result<std::optional<oauth_app_record>> oauth_view::app(std::string_view id) const noexcept {
    return guarded([&] { return get_rec<oauth_app_record>(*kv_, key('a', id)); });
}

result<std::optional<oauth_app_record>> oauth_view::app_by_client_id(std::string_view client_id) const noexcept {
    return guarded([&] { return get_via<oauth_app_record>(*kv_, key('c', client_id), 'a'); });
}

result<std::vector<oauth_app_record>> oauth_view::apps() const noexcept {
    return guarded([&] { return records_under<oauth_app_record>(*kv_, key('a', {})); });
}

result<std::optional<oauth_code_record>> oauth_view::code(std::string_view digest) const noexcept {
    return guarded([&] { return get_rec<oauth_code_record>(*kv_, key('g', digest)); });
}

result<std::optional<oauth_token_record>> oauth_view::token(std::string_view digest) const noexcept {
    return guarded([&] { return get_rec<oauth_token_record>(*kv_, key('t', digest)); });
}

result<void> oauth_repo::put_app(oauth_app_record const& a, bool insert) noexcept {
    return guarded([&] { return put_uniquely_named(*w_, 'a', a.id, 'c', a.client_id, a, insert); });
}

result<void> oauth_repo::remove_app(std::string_view id) noexcept {
    return guarded([&]() -> result<void> {
        if (!part_ok(id)) return {};
        return if_stored<oauth_app_record>(*w_, key('a', id), [&](oauth_app_record const& a) -> result<void> {
            if (auto r = w_->del(key('c', a.client_id)); !r) return r;
            return w_->del(key('a', id));
        });
    });
}

result<void> oauth_repo::put_code(oauth_code_record const& c) noexcept {
    return guarded([&] { return put_at(*w_, 'g', c.digest, c); });
}

result<void> oauth_repo::put_token(oauth_token_record const& t) noexcept {
    return guarded([&]() -> result<void> {
        auto const k = key('t', t.digest);
        if (!part_ok(t.digest) || !storable(k)) return invalid();
        if (part_ok(t.family_id)) {
            auto const fk = prefix2('f', t.family_id) + t.digest;
            if (!storable(fk)) return invalid();
            if (auto r = w_->put(fk, {}, false); !r) return r;
        }
        return w_->put(k, encode(t), false);
    });
}

result<std::size_t> oauth_repo::revoke_family(std::string_view family_id, std::string_view reason) noexcept {
    return guarded([&]() -> result<std::size_t> {
        if (!part_ok(family_id)) return std::size_t{0};
        auto const prefix = prefix2('f', family_id);
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
