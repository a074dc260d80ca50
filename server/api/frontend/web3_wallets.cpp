// The signed-in user's web3 wallets (FAPI /v1/me/web3_wallets, issue 14): add an Ethereum address, prepare its
// verification (a single-use message to sign), attempt it with the wallet's EIP-191 signature, read and delete.
// A proven wallet becomes a sign-in identifier; the first one becomes the primary. Every reply piggy-backs the
// client. The signature checks are in domain/web3.
#include "server/api/frontend/handlers.hpp"

#include "crypto/random.hpp"
#include "server/api/domain/web3.hpp"
#include "server/api/events.hpp"
#include "server/api/frontend/common.hpp"
#include "server/api/frontend/user_edit.hpp"
#include "server/api/txn.hpp"
#include "server/api/views.hpp"

#include <boost/json/object.hpp>

#include <algorithm>
#include <cctype>
#include <string>

namespace latchkey::server::api::frontend {

namespace json = boost::json;
namespace w3 = domain::web3;

namespace {

std::optional<api_error> need_web3(app const& a) {
    if (!w3::enabled_strategies(a).empty()) return std::nullopt;
    auto e = make_error(code::strategy_for_user_invalid);
    e.long_message = "Web3 wallets are not enabled on this instance.";
    return e;
}

store::identification_record* find(store::user_record& u, std::string_view id) {
    for (auto& i : u.identifications)
        if (i.kind == "web3_wallet" && i.id == id) return &i;
    return nullptr;
}

std::string lower(std::string s) {
    for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
}

std::string path_id(request_ctx const& ctx) { return std::string(ctx.params.get("web3_wallet_id")); }

}  // namespace

api_result<reply> create_web3_wallet(app& a, request_ctx& ctx) {
    if (auto e = need_web3(a)) return *e;
    auto const text = field(ctx, "web3_wallet").value_or("");
    if (text.empty()) return param_error(code::form_param_missing, "web3_wallet");
    auto const address = w3::normalize_address(text);
    if (!address) return param_error(code::form_param_format_invalid, "web3_wallet");
    return edit_current_user(
        a, ctx, "create_web3_wallet",
        [&](current_user& m, store::write_txn& w, bool&) -> api_result<json::value> {
            auto& u = m.user;
            for (auto const& i : u.identifications)
                if (i.kind == "web3_wallet" && i.value == *address)
                    return param_error(code::form_identifier_exists, "web3_wallet");
            auto owner = w.users().id_by_phone(lower(*address));
            if (!owner) return store_failure(owner.error(), "id_by_wallet");
            if (*owner) return param_error(code::form_identifier_exists, "web3_wallet");
            store::identification_record i;
            i.id = crypto::new_id("idn");
            i.kind = "web3_wallet";
            i.value = *address;
            i.created_at = i.updated_at = ctx.now;
            u.identifications.push_back(i);
            return w3::wallet_json(i);
        },
        "web3_wallet");
}

api_result<reply> list_web3_wallets(app& a, request_ctx& ctx) {
    return view_current_user(a, ctx, "list_web3_wallets",
                             [](current_user& m) -> api_result<json::value> { return w3::wallets_json(m.user); });
}

api_result<reply> get_web3_wallet(app& a, request_ctx& ctx) {
    auto const id = path_id(ctx);
    return view_user_item(
        a, ctx, "get_web3_wallet", [&](store::user_record& u) { return find(u, id); },
        [](store::identification_record const& w) { return w3::wallet_json(w); });
}

api_result<reply> prepare_web3_wallet_verification(app& a, request_ctx& ctx) {
    auto const strategy = field(ctx, "strategy").value_or("");
    if (strategy.empty()) return param_error(code::form_param_missing, "strategy");
    auto const enabled = w3::enabled_strategies(a);
    if (std::find(enabled.begin(), enabled.end(), strategy) == enabled.end())
        return param_error(code::form_param_value_invalid, "strategy");
    auto const id = path_id(ctx);
    return edit_current_user(
        a, ctx, "prepare_web3_wallet",
        [&](current_user& m, store::write_txn&, bool&) -> api_result<json::value> {
            auto& u = m.user;
            auto* i = find(u, id);
            if (i == nullptr) return make_error(code::resource_not_found);
            if (i->verification.status == "verified") return make_error(code::verification_already_verified);
            w3::prepare(a, i->verification, strategy, i->value, ctx.now);
            i->updated_at = ctx.now;
            return w3::wallet_json(*i);
        },
        "web3_wallet");
}

api_result<reply> attempt_web3_wallet_verification(app& a, request_ctx& ctx) {
    auto const signature = field(ctx, "signature").value_or("");
    if (signature.empty()) return param_error(code::form_param_missing, "signature");
    if (auto limited = rate_limit_ip(a, ctx, "me_web3", "attempt")) return *limited;
    auto const id = path_id(ctx);
    return edit_current_user(
        a, ctx, "verify_web3_wallet",
        [&](current_user& m, store::write_txn&, bool& spent) -> api_result<json::value> {
            auto& u = m.user;
            auto* i = find(u, id);
            if (i == nullptr) return make_error(code::resource_not_found);
            auto const before = i->verification.status;
            auto r = w3::check(i->verification, i->value, signature, ctx.now);
            i->updated_at = ctx.now;
            if (!r) {
                spent = i->verification.status != before;
                return r.error();
            }
            if (u.primary_web3_wallet_id.empty()) u.primary_web3_wallet_id = i->id;
            return w3::wallet_json(*i);
        },
        "web3_wallet");
}

api_result<reply> delete_web3_wallet(app& a, request_ctx& ctx) {
    auto const id = path_id(ctx);
    return edit_current_user(
        a, ctx, "delete_web3_wallet",
        [&](current_user& m, store::write_txn&, bool&) -> api_result<json::value> {
            auto& u = m.user;
            if (find(u, id) == nullptr) return make_error(code::resource_not_found);
            std::erase_if(u.identifications, [&](auto const& i) { return i.kind == "web3_wallet" && i.id == id; });
            if (u.primary_web3_wallet_id == id) {
                u.primary_web3_wallet_id.clear();
                for (auto const& i : u.identifications)
                    if (i.kind == "web3_wallet" && i.verification.status == "verified") {
                        u.primary_web3_wallet_id = i.id;
                        break;
                    }
            }
            json::object d;
            d["object"] = "web3_wallet";
            d["id"] = id;
            d["deleted"] = true;
            return d;
        },
        "web3_wallet");
}

}  // namespace latchkey::server::api::frontend
