#include "crypto/keys.hpp"

#include "crypto/encoding.hpp"
#include "crypto/jws.hpp"
#include "crypto/live_keyring.hpp"
#include "tests/unit/crypto/test_keys.hpp"

#include <boost/test/unit_test.hpp>

#include <openssl/err.h>
#include <openssl/pem.h>

#include <string>

namespace crypto = latchkey::crypto;
namespace test = latchkey::crypto::test;
using crypto::errc;
using crypto::signing_key;

namespace {

boost::system::error_code code(errc e) { return crypto::make_error_code(e); }

std::string pkcs1_pem(signing_key const& k) {
    crypto::bio_ptr const bio(::BIO_new(::BIO_s_mem()));
    BOOST_TEST_REQUIRE(bio != nullptr);
    BOOST_TEST_REQUIRE(
        ::PEM_write_bio_PrivateKey_traditional(bio.get(), k.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1);
    char* data = nullptr;
    long const len = BIO_get_mem_data(bio.get(), &data);
    return {data, static_cast<std::size_t>(len)};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(crypto_keys)

BOOST_AUTO_TEST_CASE(rfc7515_key_exposes_its_jwk_parameters) {
    signing_key const& k = test::rfc_key();
    BOOST_TEST(k.n_b64url() == test::rfc7515_a2_n);
    BOOST_TEST(k.e_b64url() == "AQAB");
    BOOST_TEST(k.bits() == 2048);
    BOOST_TEST(k.get() != nullptr);
}

BOOST_AUTO_TEST_CASE(default_kid_is_stable_and_derived_from_the_public_key) {
    auto again = signing_key::from_pem(test::rfc7515_a2_pem);
    BOOST_TEST_REQUIRE(again.has_value());
    std::string const& kid = test::rfc_key().kid();
    BOOST_TEST(kid.size() == 4U + 27U);
    BOOST_TEST(kid.rfind("ins_", 0) == 0U);
    BOOST_TEST(again->kid() == kid);
    BOOST_TEST(test::generated_key().kid() != kid);
    again->set_kid("ins_custom");
    BOOST_TEST(again->kid() == "ins_custom");
}

BOOST_AUTO_TEST_CASE(generated_key_is_rsa_2048_with_e_65537) {
    signing_key const& k = test::generated_key();
    BOOST_TEST(k.bits() == 2048);
    BOOST_TEST(k.e_b64url() == "AQAB");
    auto n = crypto::base64url_decode(k.n_b64url());
    BOOST_TEST_REQUIRE(n.has_value());
    BOOST_TEST(n->size() == 256U);
    BOOST_TEST((static_cast<unsigned char>((*n)[0]) & 0x80U) != 0U);  // full 2048-bit modulus
    BOOST_TEST(signing_key::generate_rsa(1024).error() == code(errc::invalid_key));
    BOOST_TEST(signing_key::generate_rsa(16384).error() == code(errc::invalid_key));
}

BOOST_AUTO_TEST_CASE(private_pem_round_trips) {
    signing_key const& k = test::generated_key();
    std::string const pem = k.private_pem();
    BOOST_TEST(pem.rfind("-----BEGIN PRIVATE KEY-----\n", 0) == 0U);
    auto back = signing_key::from_pem(pem);
    BOOST_TEST_REQUIRE(back.has_value());
    BOOST_TEST(back->n_b64url() == k.n_b64url());
    BOOST_TEST(back->e_b64url() == k.e_b64url());
    BOOST_TEST(back->kid() == k.kid());
    BOOST_TEST(back->private_pem() == pem);
}

BOOST_AUTO_TEST_CASE(pkcs1_pem_is_accepted) {
    std::string const pem = pkcs1_pem(test::rfc_key());
    BOOST_TEST(pem.rfind("-----BEGIN RSA PRIVATE KEY-----", 0) == 0U);
    auto k = signing_key::from_pem(pem);
    BOOST_TEST_REQUIRE(k.has_value());
    BOOST_TEST(k->n_b64url() == test::rfc7515_a2_n);
}

BOOST_AUTO_TEST_CASE(public_pem_loads_as_a_public_key) {
    std::string const pem = test::rfc_key().public_pem();
    BOOST_TEST(pem.rfind("-----BEGIN PUBLIC KEY-----\n", 0) == 0U);
    auto pub = crypto::public_key::from_pem(pem);
    BOOST_TEST_REQUIRE(pub.has_value());
    BOOST_TEST(::EVP_PKEY_eq(pub->get(), test::rfc_key().get()) == 1);
    BOOST_TEST(crypto::public_key::from_pem("nope").error() == code(errc::invalid_key));
    BOOST_TEST(crypto::public_key::from_pem(test::rfc7515_a2_pem).error() == code(errc::invalid_key));
    BOOST_TEST(::ERR_peek_error() == 0UL);
}

BOOST_AUTO_TEST_CASE(from_pem_rejects_unusable_keys_without_leaving_errors) {
    struct bad_case {
        char const* name;
        std::string_view pem;
        errc expected;
    };

    std::string const public_pem = test::rfc_key().public_pem();
    bad_case const cases[] = {
        {"empty", "", errc::invalid_key},
        {"garbage", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", errc::invalid_key},
        {"encrypted", test::rfc7515_a2_encrypted_pem, errc::invalid_key},
        {"inconsistent", test::inconsistent_rsa_pem, errc::invalid_key},
        {"rsa-1024", test::rsa1024_pem, errc::invalid_key},
        {"ec-p256", test::ec_p256_pem, errc::unsupported_algorithm},
        {"public only", public_pem, errc::invalid_key},
    };
    crypto::set_log_sink([](std::string_view) noexcept {});  // expected failures: keep the output clean
    for (auto const& c : cases) {
        BOOST_TEST_CONTEXT(c.name) {
            auto r = signing_key::from_pem(c.pem);
            BOOST_TEST_REQUIRE(r.has_error());
            BOOST_TEST(r.error() == code(c.expected));
            BOOST_TEST(::ERR_peek_error() == 0UL);
        }
    }
    crypto::set_log_sink(nullptr);
}

BOOST_AUTO_TEST_CASE(clone_shares_the_key) {
    auto c = test::rfc_key().clone();
    BOOST_TEST_REQUIRE(c.has_value());
    BOOST_TEST(c->get() == test::rfc_key().get());
    BOOST_TEST(c->kid() == test::rfc_key().kid());
    BOOST_TEST(c->n_b64url() == test::rfc_key().n_b64url());
}

BOOST_AUTO_TEST_CASE(public_key_from_jwk_matches_the_private_key) {
    signing_key const& k = test::generated_key();
    auto pub = crypto::public_key::from_jwk(k.n_b64url(), k.e_b64url());
    BOOST_TEST_REQUIRE(pub.has_value());
    BOOST_TEST(::EVP_PKEY_eq(pub->get(), k.get()) == 1);
    auto from_key = crypto::public_key::from_signing_key(k);
    BOOST_TEST_REQUIRE(from_key.has_value());
    BOOST_TEST(from_key->get() == k.get());

    BOOST_TEST(crypto::public_key::from_jwk("a+b", "AQAB").error() == code(errc::invalid_encoding));
    BOOST_TEST(crypto::public_key::from_jwk(k.n_b64url(), "AQAA").error() == code(errc::invalid_key));  // even
    BOOST_TEST(crypto::public_key::from_jwk(k.n_b64url(), "AQ").error() == code(errc::invalid_key));    // e = 1
    BOOST_TEST(crypto::public_key::from_jwk(k.n_b64url(), "").error() == code(errc::invalid_key));
    BOOST_TEST(crypto::public_key::from_jwk(k.n_b64url().substr(0, 168), "AQAB").error() ==
               code(errc::invalid_key));  // 1024-bit modulus
    BOOST_TEST(::ERR_peek_error() == 0UL);
}

BOOST_AUTO_TEST_CASE(keyring_tracks_the_active_key_and_publishes_all) {
    crypto::keyring ring;
    BOOST_TEST(!ring.has_active());
    BOOST_TEST(ring.published().empty());

    auto a = test::rfc_key().clone();
    auto b = test::generated_key().clone();
    auto c = test::other_generated_key().clone();
    BOOST_TEST_REQUIRE((a && b && c));
    a->set_kid("ins_a");
    b->set_kid("ins_b");
    c->set_kid("ins_c");

    ring.add(std::move(*a), true);
    ring.add(std::move(*b), false);
    BOOST_TEST(ring.active().kid() == "ins_a");
    signing_key const* pa = ring.find("ins_a");
    BOOST_TEST_REQUIRE(pa != nullptr);

    ring.add(std::move(*c), true);
    BOOST_TEST(ring.size() == 3U);
    BOOST_TEST(ring.active().kid() == "ins_c");
    BOOST_TEST(ring.find("ins_a") == pa);  // adding does not move keys
    BOOST_TEST(ring.find("ins_b")->get() == test::generated_key().get());
    BOOST_TEST(ring.find("ins_zzz") == nullptr);

    auto const pub = ring.published();
    BOOST_TEST_REQUIRE(pub.size() == 3U);
    BOOST_TEST(pub[0]->kid() == "ins_c");
    BOOST_TEST(pub[1]->kid() == "ins_a");
    BOOST_TEST(pub[2]->kid() == "ins_b");

    // Same kid: replaced in place, not duplicated.
    test::add_clone(ring, test::other_generated_key(), "ins_b", false);
    BOOST_TEST(ring.size() == 3U);
    BOOST_TEST(ring.find("ins_b")->get() == test::other_generated_key().get());
    BOOST_TEST(ring.active().kid() == "ins_c");
}

BOOST_AUTO_TEST_CASE(jwks_json_is_the_clerk_shape) {
    crypto::keyring ring;
    test::add_clone(ring, test::rfc_key(), "ins_2abc", true);
    BOOST_TEST(crypto::jwks_json(ring) ==
               std::string(R"({"keys":[{"use":"sig","kty":"RSA","kid":"ins_2abc","alg":"RS256","n":")") +
                   std::string(test::rfc7515_a2_n) + R"(","e":"AQAB"}]})");

    test::add_clone(ring, test::generated_key(), "ins_new", true);
    std::string const json = crypto::jwks_json(ring);
    auto const first = json.find(R"("kid":"ins_new")");
    auto const second = json.find(R"("kid":"ins_2abc")");
    BOOST_TEST(first != std::string::npos);
    BOOST_TEST(second != std::string::npos);
    BOOST_TEST(first < second);  // the active key comes first
    BOOST_TEST(json.find(R"("n":")" + test::generated_key().n_b64url() + R"(","e":"AQAB")") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(jwks_json_escapes_the_kid) {
    crypto::keyring ring;
    test::add_clone(ring, test::rfc_key(), "a\"b\\c\nd", true);
    BOOST_TEST(crypto::jwks_json(ring).find(R"("kid":"a\"b\\c\u000ad")") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(live_keyring_swaps_snapshots_and_keeps_the_old_ones_readable) {
    auto with = [](std::initializer_list<std::pair<crypto::signing_key const*, char const*>> keys) {
        crypto::keyring ring;
        for (auto const& [k, kid] : keys) test::add_clone(ring, *k, kid, true);  // the last one added is active
        return ring;
    };
    crypto::live_keyring live(with({{&test::rfc_key(), "ins_old"}}));
    crypto::signing_key const& before = live.active();  // what a mint in flight holds
    crypto::keyring const& snapshot = live.current();
    live.publish(with({{&test::rfc_key(), "ins_old"}, {&test::generated_key(), "ins_new"}}));
    BOOST_TEST(live.active().kid() == "ins_new");
    BOOST_TEST(live.find("ins_old") != nullptr);
    BOOST_TEST(live.published().size() == 2U);
    BOOST_TEST(crypto::jwks_json(live).find(R"("kid":"ins_new")") < crypto::jwks_json(live).find(R"("kid":"ins_old")"));
    live.publish(with({{&test::generated_key(), "ins_new"}}));
    BOOST_TEST(live.find("ins_old") == nullptr);
    BOOST_TEST(live.generation() == 3U);
    // The replaced snapshots stay valid (ASan would report a use after free otherwise).
    BOOST_TEST(before.kid() == "ins_old");
    BOOST_TEST(snapshot.size() == 1U);
    BOOST_TEST(&snapshot.active() == &before);
}

BOOST_AUTO_TEST_SUITE_END()
