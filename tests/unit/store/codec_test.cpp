#include "store/codec.hpp"

#include "store/records.hpp"
#include "tests/unit/store/fixture.hpp"

#include <boost/mp11/algorithm.hpp>
#include <boost/mp11/list.hpp>
#include <boost/test/unit_test.hpp>

#include <random>
#include <string>

using namespace latchkey::store;
using namespace latchkey::store::test;

namespace {

using all_records =
    boost::mp11::mp_list<verification_record, identification_record, user_record, client_record, session_record,
                         sign_in_record, sign_up_record, dev_browser_record, jwt_template_record>;

auto const corrupted = make_error_code(errc::corrupted);

/// An encoding as an older writer that knew only the first `k` members of T would have produced.
template <class T>
std::string encode_first_members(T const& v, std::size_t k) {
    std::string out(1, codec_version);
    codec_detail::put_varint(out, k);
    std::size_t i = 0;
    boost::mp11::mp_for_each<members<T>>([&](auto d) {
        if (i++ < k) codec_detail::enc(out, v.*d.pointer);
    });
    return out;
}

/// An encoding of `full` as an older writer would have produced when the nested record type N (every member of T
/// of that type) knew only its first `k` members.
template <class T, class N>
std::string encode_with_older_nested(T const& full, std::size_t k) {
    std::string old(1, codec_version);
    codec_detail::put_varint(old, codec_detail::member_count<T>);
    boost::mp11::mp_for_each<members<T>>([&](auto d) {
        auto const& m = full.*d.pointer;
        if constexpr (std::is_same_v<std::decay_t<decltype(m)>, N>)
            old += encode_first_members(m, k).substr(1);
        else
            codec_detail::enc(old, m);
    });
    return old;
}

/// Checks that the first `k` members of `got` equal `full`'s and the rest are T's defaults.
template <class T>
void check_first_members(T const& got, T const& full, std::size_t k) {
    T const def{};
    std::size_t i = 0;
    boost::mp11::mp_for_each<members<T>>([&](auto d) {
        auto const& expected = i++ < k ? full.*d.pointer : def.*d.pointer;
        BOOST_TEST(records_equal(got.*d.pointer, expected), "member " << d.name << " with " << k << " written");
    });
}

}  // namespace

BOOST_AUTO_TEST_SUITE(store_codec)

BOOST_AUTO_TEST_CASE_TEMPLATE(every_member_of_every_record_round_trips, T, all_records) {
    T const v = filled<T>();
    auto d = decode<T>(encode(v));
    BOOST_TEST_REQUIRE(d.has_value());
    BOOST_TEST(records_equal(*d, v));
    // Defaults (including the non-zero ones, like "{}" metadata) round-trip as well.
    auto e = decode<T>(encode(T{}));
    BOOST_TEST_REQUIRE(e.has_value());
    BOOST_TEST(records_equal(*e, T{}));
}

BOOST_AUTO_TEST_CASE(nested_vectors_of_structs_keep_order_and_contents) {
    user_record u = filled<user_record>();
    BOOST_TEST_REQUIRE(u.identifications.size() == 3u);
    u.identifications[2].verification.attempts = -3;  // signed ints survive zigzag
    u.identifications[1].verification.expire_at = std::numeric_limits<std::int64_t>::min();
    auto d = decode<user_record>(encode(u));
    BOOST_TEST_REQUIRE(d.has_value());
    BOOST_TEST(d->identifications[2].verification.attempts == -3);
    BOOST_TEST(d->identifications[1].verification.expire_at == std::numeric_limits<std::int64_t>::min());
    BOOST_TEST(records_equal(*d, u));
}

BOOST_AUTO_TEST_CASE(golden_bytes_pin_the_format) {
    // Stored data outlives the code: an accidental format change must fail here.
    dev_browser_record const d{"dvb_1", "client_9", 5};
    BOOST_TEST(encode(d) == std::string("\x01\x03\x05"
                                        "dvb_1"
                                        "\x08"
                                        "client_9"
                                        "\x0a"));
    identification_record const i{"i", "k", "v", {}, -1, 300, true};
    std::string const expected(
        "\x01\x09"
        "\x01i\x01k\x01v"
        "\x0a\x00\x00\x00\x00\x00\x00\x00"  // verification: 10 members, all empty/zero
        "\x00\x00\x00"                      // (redirect_url, verified_at_client, nonce)
        "\x01"                              // created_at -1 (zigzag 1)
        "\xd8\x04"                          // updated_at 300 (zigzag 600)
        "\x01"                              // reserved
        "\x00\x00",                         // reserved_for_second_factor, default_second_factor
        25);
    BOOST_TEST(encode(i) == expected);
    // A record written before the two second-factor members were appended (and before the verification's last
    // three) still decodes, with them false/empty.
    std::string const old_bytes(
        "\x01\x07"
        "\x01i\x01k\x01v"
        "\x07\x00\x00\x00\x00\x00\x00\x00"
        "\x01"
        "\xd8\x04"
        "\x01",
        20);
    auto const decoded = decode<identification_record>(old_bytes);
    BOOST_TEST_REQUIRE(decoded.has_value());
    BOOST_TEST(decoded->reserved);
    BOOST_TEST(!decoded->reserved_for_second_factor);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(every_truncation_is_corrupted, T, all_records) {
    auto const bytes = encode(filled<T>());
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        auto r = decode<T>(std::string_view(bytes).substr(0, n));
        BOOST_TEST_REQUIRE(r.has_error(), "prefix of length " << n << " of " << bytes.size() << " decoded");
        BOOST_TEST(r.error() == corrupted);
    }
    BOOST_TEST(decode<T>(bytes + '\0').error() == corrupted);  // trailing bytes
    std::string wrong_version = bytes;
    wrong_version[0] = 2;
    BOOST_TEST(decode<T>(wrong_version).error() == corrupted);
}

BOOST_AUTO_TEST_CASE(malformed_values_are_corrupted) {
    auto dec_dev = [](std::string const& s) { return decode<dev_browser_record>(s); };
    auto dec_ver = [](std::string const& s) { return decode<verification_record>(s); };
    std::string const ok(
        "\x01\x03\x01"
        "a"
        "\x01"
        "b"
        "\x02",
        7);
    BOOST_TEST_REQUIRE(dec_dev(ok).has_value());
    // Corrupted, each: more members than the reader knows (a newer writer: refused rather than misread); nothing
    // after; a string length past the end; a varint longer than 10 bytes; a 10th byte with bits beyond 64.
    std::string const corrupt[] = {std::string("\x01\x04\x01"
                                               "a\x01"
                                               "b\x02\x00",
                                               8),
                                   std::string("\x01\x04\x01"
                                               "a\x01"
                                               "b\x02",
                                               7),
                                   std::string("\x01\x03\x05"
                                               "a",
                                               4),
                                   std::string("\x01\x03\x01"
                                               "a\x01"
                                               "b\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
                                               17),
                                   std::string("\x01\x03\x01"
                                               "a\x01"
                                               "b\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02",
                                               16)};
    for (auto const& bad : corrupt) BOOST_TEST(dec_dev(bad).error() == corrupted);
    // The largest 10-byte varint is fine: zigzag(INT64_MIN) = 2^64 - 1.
    auto big =
        dec_dev(std::string("\x01\x03\x01"
                            "a\x01"
                            "b"
                            "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
                            16));
    BOOST_TEST_REQUIRE(big.has_value());
    BOOST_TEST(big->created_at == std::numeric_limits<std::int64_t>::min());
    // A bool that is neither 0 nor 1 (custom_signing_key is member 6 of jwt_template_record).
    std::string tpl = encode(jwt_template_record{});
    std::size_t const bool_at = tpl.size() - 1 - 1 - 1 - 6;  // ... bool, "RS256"(6 bytes), created_at, updated_at
    BOOST_TEST_REQUIRE(tpl[bool_at] == '\0');
    tpl[bool_at] = 2;
    BOOST_TEST(decode<jwt_template_record>(tpl).error() == corrupted);
    // An int32 out of range: attempts (member 6 of verification_record) = 2^31, zigzag 2^32.
    std::string v(
        "\x01\x06\x00\x00\x00\x00\x00"
        "\x80\x80\x80\x80\x10",
        12);
    BOOST_TEST(dec_ver(v).error() == corrupted);
    v = std::string(
        "\x01\x06\x00\x00\x00\x00\x00"
        "\xfe\xff\xff\xff\x0f",
        12);  // 2^31 - 1 is fine
    BOOST_TEST_REQUIRE(dec_ver(v).has_value());
    BOOST_TEST(dec_ver(v)->attempts == std::numeric_limits<std::int32_t>::max());
    // A vector count far beyond the input: refused before allocating for it.
    std::string c(
        "\x01\x02\x00"
        "\xff\xff\xff\xff\xff\xff\xff\xff\x7f",
        12);
    BOOST_TEST(decode<client_record>(c).error() == corrupted);
    BOOST_TEST(decode<client_record>(std::string_view{}).error() == corrupted);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(records_missing_trailing_members_decode_with_defaults, T, all_records) {
    T const full = filled<T>();
    for (std::size_t k = 0; k <= codec_detail::member_count<T>; ++k) {
        auto d = decode<T>(encode_first_members(full, k));
        BOOST_TEST_REQUIRE(d.has_value(), k << " members written");
        check_first_members(*d, full, k);
    }
}

BOOST_AUTO_TEST_CASE(nested_records_missing_trailing_members_decode_with_defaults) {
    // A sign-in written when verification_record had only status, strategy and code_digest.
    sign_in_record const full = filled<sign_in_record>();
    auto d = decode<sign_in_record>(encode_with_older_nested<sign_in_record, verification_record>(full, 3));
    BOOST_TEST_REQUIRE(d.has_value());
    BOOST_TEST(d->first_factor.code_digest == full.first_factor.code_digest);
    BOOST_TEST(d->first_factor.target_id.empty());
    BOOST_TEST(d->second_factor.attempts == 0);
    BOOST_TEST(d->updated_at == full.updated_at);
    BOOST_TEST(d->identifier == full.identifier);
}

BOOST_AUTO_TEST_CASE(oauth_flow_with_an_older_external_account_decodes_with_defaults) {
    // Issue 15: a flow (and a user) written before external_account_record grew its verification members (15 then).
    oauth_flow_record const full = filled<oauth_flow_record>();
    auto d = decode<oauth_flow_record>(encode_with_older_nested<oauth_flow_record, external_account_record>(full, 15));
    BOOST_TEST_REQUIRE(d.has_value());
    BOOST_TEST(d->identity.provider_user_id == full.identity.provider_user_id);
    BOOST_TEST(d->identity.token_expires_at == full.identity.token_expires_at);
    BOOST_TEST(d->identity.verification_status.empty());
    BOOST_TEST(d->identity.verification_error.empty());
    BOOST_TEST(d->identity.verification_expire_at == 0);
    BOOST_TEST(d->email_verified == full.email_verified);
    BOOST_TEST(d->verification.status == full.verification.status);
    check_first_members(d->identity, full.identity, 15);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(garbage_and_bit_flips_never_misbehave, T, all_records) {
    // Runs under ASan/UBSan in CI: any out-of-bounds read or overflow fails there. Whatever does decode must
    // re-encode to something that decodes to the same record.
    auto consistent = [](std::string_view in) {
        auto d = decode<T>(in);
        if (!d) return d.error() == corrupted;
        auto again = decode<T>(encode(*d));
        return again.has_value() && static_cast<bool>(records_equal(*again, *d));
    };
    std::mt19937 rng(1234);
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_int_distribution<std::size_t> len(0, 300);
    for (int i = 0; i < 2000; ++i) {
        std::string s(len(rng), '\0');
        for (auto& c : s) c = static_cast<char>(byte(rng));
        if (i % 2 == 0 && !s.empty()) s[0] = codec_version;
        BOOST_TEST_REQUIRE(consistent(s), "random input " << i);
    }
    std::string const valid = encode(filled<T>());
    for (std::size_t at = 0; at < valid.size(); ++at)
        for (int bit = 0; bit < 8; ++bit) {
            std::string s = valid;
            s[at] = static_cast<char>(s[at] ^ (1 << bit));
            BOOST_TEST_REQUIRE(consistent(s), "flipped bit " << bit << " of byte " << at);
        }
}

BOOST_AUTO_TEST_SUITE_END()
