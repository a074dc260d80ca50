#pragma once
// Web3 wallets (issue 14): Ethereum addresses proven by an EIP-191 `personal_sign` signature over a single-use
// message. A wallet is an identification of kind "web3_wallet" (value: the EIP-55 address) on the user; a proven
// one is unique across users (it shares the users' phone index, see store/rules.hpp) and is a sign-in identifier.
// The strategies are clerk-js's Ethereum ones (web3_metamask_signature, web3_coinbase_wallet_signature,
// web3_okx_wallet_signature, web3_base_signature), enabled by listing them in first_factors. No I/O.
#include "server/api/app.hpp"
#include "server/api/error.hpp"
#include "store/records.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::server::api::domain::web3 {

/// Whether `strategy` is one of the Ethereum wallet strategies.
bool is_strategy(std::string_view strategy);

/// The web3 strategies the instance enables (in first_factors), in clerk-js's order.
std::vector<std::string> enabled_strategies(app const& a);

/// The EIP-55 form of an address as typed (any valid case), or nothing.
std::optional<std::string> normalize_address(std::string_view text);

/// Starts a signature challenge: `v` becomes unverified with `strategy` and a fresh single-use message naming
/// the wallet (printable ASCII), rendered as the verification's `message`.
void prepare(app const& a, store::verification_record& v, std::string_view strategy, std::string_view address,
             std::int64_t now_ms);

/// Checks `signature` ("0x" + 130 hex digits) over v's message against `address`; a well-formed answer spends
/// the message either way. 422 form_param_format_invalid (param signature) for malformed text, 422
/// form_param_value_invalid (param signature) for a signature by another key, 400 verification_expired,
/// verification_failed (already spent) or verification_not_sent.
api_result<void> check(store::verification_record& v, std::string_view address, std::string_view signature,
                       std::int64_t now_ms);

/// Clerk's Web3Wallet JSON.
boost::json::object wallet_json(store::identification_record const& w);

/// The user's wallets as the user JSON lists them.
boost::json::array wallets_json(store::user_record const& u);

}  // namespace latchkey::server::api::domain::web3
