// Web3 wallets over HTTP against the real server (issue 14): a wallet added through /v1/me/web3_wallets and
// proven with an EIP-191 personal_sign signature made here with libsecp256k1, then used to sign in
// (`web3_metamask_signature`), with the refusals: another key's signature, a spent or replayed message, a
// malformed signature or address, a wallet someone else owns, a deleted wallet.
#include "crypto/encoding.hpp"
#include "crypto/eth.hpp"
#include "tests/common/flows.hpp"
#include "tests/common/server_fixture.hpp"

#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include <boost/test/unit_test.hpp>

#include <array>

using namespace latchkey;
using namespace latchkey::test;

namespace {

void web3_instance(conf::config& c) { c.first_factors = {"password", "email_code", "web3_metamask_signature"}; }

/// An Ethereum account: a secp256k1 key (web3.js's documented example key, and another).
struct wallet {
    std::array<unsigned char, 32> key{};
    explicit wallet(std::string_view hex_key) {
        auto k = crypto::hex_decode(hex_key);
        BOOST_TEST_REQUIRE(k.has_value());
        std::copy(k->begin(), k->end(), reinterpret_cast<char*>(key.data()));
    }
    static secp256k1_context* ctx() {
        static secp256k1_context* c = secp256k1_context_create(SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY);
        return c;
    }
    std::string address() const {
        secp256k1_pubkey pub;
        BOOST_TEST_REQUIRE(secp256k1_ec_pubkey_create(ctx(), &pub, key.data()) == 1);
        unsigned char raw[65];
        std::size_t n = sizeof raw;
        secp256k1_ec_pubkey_serialize(ctx(), raw, &n, &pub, SECP256K1_EC_UNCOMPRESSED);
        return crypto::eth::checksum_address(crypto::eth::keccak256({reinterpret_cast<char*>(raw) + 1, 64}).substr(12));
    }
    /// personal_sign(message): "0x" + r ‖ s ‖ v (27/28), as MetaMask returns it.
    std::string sign(std::string const& message) const {
        auto const hash = crypto::eth::personal_message_hash(message);
        secp256k1_ecdsa_recoverable_signature sig;
        BOOST_TEST_REQUIRE(secp256k1_ecdsa_sign_recoverable(ctx(), &sig,
                                                            reinterpret_cast<unsigned char const*>(hash.data()),
                                                            key.data(), nullptr, nullptr) == 1);
        unsigned char out[64];
        int recid = 0;
        secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx(), out, &recid, &sig);
        std::string raw(reinterpret_cast<char*>(out), 64);
        raw.push_back(static_cast<char>(27 + recid));
        return "0x" + crypto::hex_encode(raw);
    }
};

std::string lower(std::string s) {
    for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
}

/// Adds and proves `w` for the browser's user; returns the wallet id.
std::string add_wallet(http_client& c, wallet const& w) {
    auto r = c.fapi("POST", "/v1/me/web3_wallets/", {{"web3_wallet", lower(w.address())}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    auto const id = str(response(r).at("id"));
    auto p = c.fapi("POST", "/v1/me/web3_wallets/" + id + "/prepare_verification",
                    {{"strategy", "web3_metamask_signature"}});
    BOOST_TEST_REQUIRE(p.status == 200u, p.body);
    auto v = c.fapi("POST", "/v1/me/web3_wallets/" + id + "/attempt_verification",
                    {{"signature", w.sign(str(response(p).at("verification").at("message")))}});
    BOOST_TEST_REQUIRE(v.status == 200u, v.body);
    return id;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(frontend_web3)

BOOST_AUTO_TEST_CASE(add_prove_sign_in_delete) {
    test_server s(web3_instance);
    auto [c, who] = browser(s, "wei@example.com");
    wallet const w("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318");
    wallet const other("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    BOOST_TEST(w.address() == "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23");

    auto env = c.fapi("GET", "/v1/environment");
    auto const& attr = env.json.at("user_settings").at("attributes").at("web3_wallet");
    BOOST_TEST(attr.at("enabled").as_bool());
    BOOST_TEST(str(attr.at("first_factors").as_array().at(0)) == "web3_metamask_signature");

    // Add: stored in its EIP-55 form, unverified.
    expect_error(c.fapi("POST", "/v1/me/web3_wallets/", {{"web3_wallet", "0x1234"}}), 422, "form_param_format_invalid",
                 "web3_wallet");
    expect_error(c.fapi("POST", "/v1/me/web3_wallets/"), 422, "form_param_missing", "web3_wallet");
    auto r = c.fapi("POST", "/v1/me/web3_wallets/", {{"web3_wallet", lower(w.address())}});
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    auto const id = str(response(r).at("id"));
    BOOST_TEST(str(response(r).at("object")) == "web3_wallet");
    BOOST_TEST(str(response(r).at("web3_wallet")) == w.address());
    expect_error(c.fapi("POST", "/v1/me/web3_wallets", {{"web3_wallet", w.address()}}), 422, "form_identifier_exists",
                 "web3_wallet");

    // Prepare: a message naming the wallet. Another key's signature is refused and spends it.
    auto const path = "/v1/me/web3_wallets/" + id;
    expect_error(c.fapi("POST", path + "/prepare_verification", {{"strategy", "web3_solana_signature"}}), 422,
                 "form_param_value_invalid", "strategy");
    auto p = c.fapi("POST", path + "/prepare_verification", {{"strategy", "web3_metamask_signature"}});
    BOOST_TEST_REQUIRE(p.status == 200u, p.body);
    auto const message = str(response(p).at("verification").at("message"));
    BOOST_TEST(message.find(w.address()) != std::string::npos);
    expect_error(c.fapi("POST", path + "/attempt_verification", {{"signature", "0xzz"}}), 422,
                 "form_param_format_invalid", "signature");
    expect_error(c.fapi("POST", path + "/attempt_verification", {{"signature", other.sign(message)}}), 422,
                 "form_param_value_invalid", "signature");
    expect_error(c.fapi("POST", path + "/attempt_verification", {{"signature", w.sign(message)}}), 400,
                 "verification_failed");
    // A new message, the right key: proven, primary, listed.
    p = c.fapi("POST", path + "/prepare_verification", {{"strategy", "web3_metamask_signature"}});
    auto const message2 = str(response(p).at("verification").at("message"));
    BOOST_TEST(message2 != message);
    auto v = c.fapi("POST", path + "/attempt_verification", {{"signature", w.sign(message2)}});
    BOOST_TEST_REQUIRE(v.status == 200u, v.body);
    BOOST_TEST(str(response(v).at("verification").at("status")) == "verified");
    auto const user = client_session(v, who.session_id).at("user");
    BOOST_TEST(str(user.at("primary_web3_wallet_id")) == id);
    BOOST_TEST(user.at("web3_wallets").as_array().size() == 1u);
    auto list = c.fapi("GET", "/v1/me/web3_wallets");
    BOOST_TEST(list.json.at("response").as_array().size() == 1u);
    BOOST_TEST(str(response(c.fapi("GET", path)).at("id")) == id);

    // Nobody else can claim it.
    http_client c2(s.fapi_port());
    sign_in_browser(s, c2, "mallory@example.com");
    expect_error(c2.fapi("POST", "/v1/me/web3_wallets/", {{"web3_wallet", w.address()}}), 422, "form_identifier_exists",
                 "web3_wallet");

    // Sign in with the wallet on a fresh browser.
    http_client b(s.fapi_port());
    auto si = b.fapi("POST", "/v1/client/sign_ins", {{"identifier", lower(w.address())}});
    BOOST_TEST_REQUIRE(si.status == 200u, si.body);
    auto const sia = str(response(si).at("id"));
    bool offered = false;
    for (auto const& f : response(si).at("supported_first_factors").as_array())
        if (str(f.at("strategy")) == "web3_metamask_signature") {
            offered = true;
            BOOST_TEST(str(f.at("web3_wallet_id")) == id);
            BOOST_TEST(f.at("primary").as_bool());
        }
    BOOST_TEST(offered);
    auto const sp = "/v1/client/sign_ins/" + sia;
    expect_error(b.fapi("POST", sp + "/attempt_first_factor",
                        {{"strategy", "web3_metamask_signature"}, {"signature", w.sign("x")}}),
                 400, "verification_not_sent");
    auto prep =
        b.fapi("POST", sp + "/prepare_first_factor", {{"strategy", "web3_metamask_signature"}, {"web3_wallet_id", id}});
    BOOST_TEST_REQUIRE(prep.status == 200u, prep.body);
    auto const m3 = str(response(prep).at("first_factor_verification").at("message"));
    auto const sig3 = w.sign(m3);
    auto done =
        b.fapi("POST", sp + "/attempt_first_factor", {{"strategy", "web3_metamask_signature"}, {"signature", sig3}});
    BOOST_TEST_REQUIRE(done.status == 200u, done.body);
    BOOST_TEST(str(response(done).at("status")) == "complete");
    BOOST_TEST(str(client_session(done, str(response(done).at("created_session_id"))).at("user").at("id")) ==
               who.user_id);

    // The same signature on another sign-in: a new message, so it does not match.
    http_client b2(s.fapi_port());
    auto si2 = b2.fapi("POST", "/v1/client/sign_ins", {{"identifier", w.address()}});
    auto const sp2 = "/v1/client/sign_ins/" + str(response(si2).at("id"));
    b2.fapi("POST", sp2 + "/prepare_first_factor", {{"strategy", "web3_metamask_signature"}});
    expect_error(
        b2.fapi("POST", sp2 + "/attempt_first_factor", {{"strategy", "web3_metamask_signature"}, {"signature", sig3}}),
        422, "form_param_value_invalid", "signature");

    // Delete: the address no longer signs anyone in.
    auto d = c.fapi("DELETE", path);
    BOOST_TEST_REQUIRE(d.status == 200u, d.body);
    BOOST_TEST(load_user(s, who.user_id)->primary_web3_wallet_id.empty());
    http_client b3(s.fapi_port());
    expect_error(b3.fapi("POST", "/v1/client/sign_ins", {{"identifier", w.address()}}), 422,
                 "form_identifier_not_found", "identifier");
    // ... and can be claimed by someone else now.
    BOOST_TEST(add_wallet(c2, w).starts_with("idn_"));
}

BOOST_AUTO_TEST_SUITE_END()
