#include "server/api/domain/web3.hpp"

#include "crypto/encoding.hpp"
#include "crypto/eth.hpp"
#include "crypto/ossl.hpp"
#include "crypto/random.hpp"
#include "server/api/domain/identifications.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <array>

namespace latchkey::server::api::domain::web3 {

namespace json = boost::json;

namespace {

constexpr std::array<std::string_view, 4> strategies{"web3_metamask_signature", "web3_coinbase_wallet_signature",
                                                     "web3_okx_wallet_signature", "web3_base_signature"};
constexpr std::int64_t message_lifetime_ms = std::int64_t{10} * 60 * 1000;

}  // namespace

bool is_strategy(std::string_view strategy) {
    return std::find(strategies.begin(), strategies.end(), strategy) != strategies.end();
}

std::vector<std::string> enabled_strategies(app const& a) {
    std::vector<std::string> out;
    for (auto s : strategies)
        if (std::find(a.cfg.first_factors.begin(), a.cfg.first_factors.end(), s) != a.cfg.first_factors.end())
            out.emplace_back(s);
    return out;
}

std::optional<std::string> normalize_address(std::string_view text) {
    auto raw = crypto::eth::parse_address(text);
    if (!raw) return std::nullopt;
    return crypto::eth::checksum_address(*raw);
}

void prepare(app const& a, store::verification_record& v, std::string_view strategy, std::string_view address,
             std::int64_t now_ms) {
    std::array<unsigned char, 16> n{};
    crypto::random_bytes(n);
    std::string name;
    for (char ch : a.cfg.application_name)
        if (ch >= 0x20 && ch < 0x7f) name.push_back(ch);
    if (name.empty()) name = "latchkey";
    v = {};
    v.status = "unverified";
    v.strategy = std::string(strategy);
    v.expire_at = now_ms + message_lifetime_ms;
    v.nonce = "Sign in to " + name + " with your wallet " + std::string(address) +
              ".\n\nNonce: " + crypto::hex_encode({reinterpret_cast<char const*>(n.data()), n.size()});
}

api_result<void> check(store::verification_record& v, std::string_view address, std::string_view signature,
                       std::int64_t now_ms) {
    if (signature.empty()) return param_error(code::form_param_missing, "signature");
    std::string_view hex = signature;
    if (hex.starts_with("0x") || hex.starts_with("0X")) hex.remove_prefix(2);
    auto raw =
        hex.size() == 130 ? crypto::hex_decode(hex) : crypto::result<std::string>(crypto::errc::invalid_encoding);
    if (!raw) return param_error(code::form_param_format_invalid, "signature");
    if (!is_strategy(v.strategy)) return make_error(code::verification_not_sent);
    if (v.status == "verified") return make_error(code::verification_already_verified);
    if (v.status == "failed") return make_error(code::verification_failed);
    if (v.status != "unverified" || v.nonce.empty()) return make_error(code::verification_not_sent);
    if (v.expire_at != 0 && now_ms > v.expire_at) return make_error(code::verification_expired);
    auto const want = crypto::eth::parse_address(address);
    auto const got = crypto::eth::recover_address(crypto::eth::personal_message_hash(v.nonce), *raw);
    v.nonce.clear();  // single use, whatever the outcome
    if (!want || !got || !crypto::equal_ct(*want, *got)) {
        v.status = "failed";
        ++v.attempts;
        return param_error(code::form_param_value_invalid, "signature",
                           "The signature was not made by this wallet for this message.");
    }
    v.status = "verified";
    v.verified_at = now_ms;
    return {};
}

json::object wallet_json(store::identification_record const& w) {
    json::object o;
    o["id"] = w.id;
    o["object"] = "web3_wallet";
    o["web3_wallet"] = w.value;
    auto const& v = w.verification;
    if (v.status.empty()) {
        o["verification"] = nullptr;
    } else {
        json::object j = challenge_verification(v, v.strategy);
        j["nonce"] = v.nonce.empty() ? json::value(nullptr) : json::value(v.nonce);
        j["message"] = v.nonce.empty() ? json::value(nullptr) : json::value(v.nonce);
        j["error"] = nullptr;
        o["verification"] = std::move(j);
    }
    o["created_at"] = w.created_at;
    o["updated_at"] = w.updated_at;
    return o;
}

json::array wallets_json(store::user_record const& u) {
    json::array out;
    for (auto const& i : u.identifications)
        if (i.kind == "web3_wallet") out.push_back(wallet_json(i));
    return out;
}

}  // namespace latchkey::server::api::domain::web3
