#pragma once

// Fixed key material for the crypto unit tests, and lazily generated keys shared by the suites.

#include "crypto/keys.hpp"

#include <boost/test/unit_test.hpp>

#include <string_view>

namespace latchkey::crypto::test {

/// The RSA-2048 key of RFC 7515 Appendix A.2, as PKCS#8 PEM (converted from the RFC's JWK).
inline constexpr std::string_view rfc7515_a2_pem = R"(
-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCh+BYK4uPJtGXO
jS1lYmM2K5J9vinh8CR3/BYlzJChNuOL2TSXxbbqY913EeZ8dCn5VrD7io8ImtxL
aYk8wTM/U+3QGbh3hCUv7JFP5IV3aVlL6kKA0ywPVb9ilE8TA5a8bpvfbr3SvaNn
juygxmj3AbONv/s4yDQs4v5tJ/reSlpIdJed1LnPmt7Ex1sFhSwsD174pcF1A5L5
ROjtZMEQxrZHYJqkeDrrnGya11UxMFBji4NmXG9veoKjlnAqH2QbgtPr8jkiGUkf
toaHLFcW9Qr4NY2ai50Xw0Byj3+H2JoY2PyrZ62EWQwuz3WTOTY8BwNNb2BvniHg
VFbK5emhAgMBAAECggEAEq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyW
PEAeP88vLNO97IjlA7/GQ5sLKMgvfTeXZx9SE+7YwVol2NXOoAJe46sui395IW/G
O+pWJ1O0BkTGoVEn2bKVRUCgu+GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzj
kn439X0M/V51gfpRLI9JYanrC4D4qAdGcopV/0ZHHzQlBjudU2QvXt4ehNYTCBr6
XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl/x/jTj3ccPDVZFD9pIuhLhBOneufuBiB
4cS98l2SR/RQyGWSeWjnczT0QU91p1DhOVRuOopznQKBgQDgHMQQ60imZV1URk0K
pLttoLhyt3SmqdEf/kgHePDdtzEafpAu+cS191R2JiuoF2yzWXnwFDcqGigp5BNr
0AHQfD8/Lk8l1Mk09jxxCfui5nYooNyac8YFjm3vItzVCVDnEd3BbVWG8qf6deqE
lMGAg+C2V0L4oNXnP7LZcPAZRwKBgQC5A8R+CZW2MvRTLLHzwZkUXV866cff7tx6
kqa0finGG0KgeqlaZPxgCZnFp7AeAcCMtiynVlJ7vMVgePsLq6XtON4tB5kP9jAP
rq3rbAOal78eUH5OcED6eNuCV8ixEu1eWcPNCS/l1OW1EnXUEoEHKl54Xrrz2uNw
kgMTP1FZ1wKBgAcCn1dwJKufzBWQxWQp1vsM5fggqPN1qGb5y0MAk3g7/Ls5bkUp
5u9SN0Ai3Ya6hNnvWJMb7sXQX6U/zyO2M/hTip7tUeh7CXgwo59dkpN75gJLVds2
9+DAncu3KXU4f2Fa+7bLNrur53k8KwPOq2bbuTG69QtV7Jr5MR0AHWKNAoGBAIf/
evpitUf+4JYbLpvNXWcY052Mpz22aR84mY3nh3F2LF2mjMJDpTg7FmuyPcVw6EcG
yoAe9fa65iNqCq+jdw6PVNGo2hxfjSiZ8IIzHdsPXI89//pMjZcQK9r+CCoRjaZj
OYiIDktVWZzmevJuv6WywUqd57LE3Zar3dLSIkx1AoGAIYd7DHOhrWvxkwPQsRM2
tOgrjbcrfvtQJipd+DlcxyVuuM9sQLdgjVk2oy26F0EmpScGLq2MowX7fhd/QJQ3
ydy5cY7YIBi87w93IKLEdfnbJtoOPLUW0ITrJReOgo1cq9SbsxYawBgfp/gh6A56
03k2+ZQwVK0JKSHuLFkuQ3U=
-----END PRIVATE KEY-----
)";

/// RFC 7515 A.2: the JWK modulus of the key above.
inline constexpr std::string_view rfc7515_a2_n =
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-"
    "4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-"
    "yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-"
    "bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-"
    "KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-"
    "DWNmoudF8NAco9_"
    "h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";

/// The same key, encrypted (PBES2, AES-128-CBC, passphrase "secret").
inline constexpr std::string_view rfc7515_a2_encrypted_pem = R"(
-----BEGIN ENCRYPTED PRIVATE KEY-----
MIIFLTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQIR5myd0mlj9YCAggA
MAwGCCqGSIb3DQIJBQAwHQYJYIZIAWUDBAECBBCdGI+Xe8pqG/mFRfQHHGDABIIE
0IDj54rIdlkEn5TTV87MqeC3WkbUh+op7kc/iEll4Vy80E4nNdD65j3UEVqiLU3Q
Vfr/8ELvgv3VQapz4X6VpcM0/XTqyqncdSD+QFlg00/tziyT2mSyQ7sMhiNDaAa+
7MAb1vxJC9ugreMhq8tZ2ObQ9hk2lpGC/BkqrxOVdmrfOefGgAnLLSGYTgSfsk+7
oBsrTtcoIEopy+aueNo9Mb8v2FZyV7REn77HB/NRQw1IpSOQXrXJhc+1hkUIYffD
D+hF/VhjQU+yKKaL8HNGpeB91pK8pAXW4ewCe2cwhxnLmJXV9EoH2OhbYS+9AxOl
0+ZhnWXGDC1Fh86QZ1dfanysvt6MoejmxysKLLDseEkomxS52lZR5cAVAmA/Omw7
39bvzhTIUsA1Mty0cYJrb5dkHlaYDfEKq/si6/u8FVt5t5gWXS133MSRuIQ6zo7z
AX+KjjagGPGO/Sjx7ktXKSIpmvjQkM6XOenYcnSnWuZRCDqYbRMpyK/tBhN9vd4f
wIFOhJEC8T1F4dFuDhFz2YnGu42Mce/BINT5SFe1y59VB9kQyNSaJOCNdc3sE8bI
GYy9njaUCPsRNLvofY3rIGh+RUCN6xCx8buV4HOcD9b+WayHvZ8jY4qvqEvAspPv
G99N296jsOmZOYzG4LLnaT4/t9XzpIXqJi6tkw3Yp8z3whtoNy+BxLZ6zANx+cXh
2OtXDNdStE8OJ8TY0NQOT8w39lj6OFNP17a8f9PNPmqKSP/OlGQLodDl3h/2OXtm
HPTorAVjDp/JB3hkQv2kfPTWRBlAIq5K6zCnkYBOxshJQ+cWnajEmiJ+dQ1HoZrm
ud+6L5D9+fNEidTjrgtR85vFvgKs8/ccJkCk88wA69v6+hc4MmDYrPZ3xG3Edu5P
a8wNy1Ouvh9HmuhyoD28xh/rPJLcYehC1MdlQ8LMwnKnQAkl2sjXR6Rtvuxit60U
4itV//qnN08UzYd4P/JaBLX5xUk7HQpTzDvNZdhfoDI6DHlnmBnqitbJoXO01zzA
mCZYQ5JpTPLPl8QLN0U8q3uB5OWZ5bv+HE5cnePR7JspVGEQDZ55Aw2NKXjyHFmE
r7mUXDG5XkeYgrqReCWn3YNdKKOjoK0T/IO2YiRPnHTHHhI46EV1tcZ00tCVhV/n
eCDRDJSjfKAXI7h+hxIGSMYxkkhYQdZonOzjotCcmw1aQn9Cxf3GU43uhldlIEQp
uwZ0Cy3bPFkrzKPu5v9X9TpzulMAsH71UWHfOI5+ScGnYw3s3xjnD2zbJMw7BlfQ
LWRB3I1Gpgq6ksSdhJeb09MYw1qipEM8YgspB0hEZFjlIBOxlz29rDPnXJbbbdoQ
q+rpj9XZgmToGl6Av0yUZ38Jdi8h4rjybJlW9vglEw/C/v7Iei46ONbnxAwjNdFG
49tRmFaDU33/srd5CBq3cP39glRcZNiiWy4bABiG7+EXwx1occgox/EcgT4Y4Bqw
PrtWgrU55PnH304tEri4L5pQehxUSfOYDMlghD/p4lsvrNeDs1vr/nmwPOZEcUpy
uJjP1gTrsyZrvRvghkrNMnZ1C7JJ9YwPf7UMsPdD3/AEIJiRBZvegGbSj5M2pdX2
m93QbxoK1y8jQ2iuis6j4KzIwM22j6As9s3mmhEoRWrz
-----END ENCRYPTED PRIVATE KEY-----
)";

/// The same key as PKCS#1 with d replaced by d + 2: parses, but fails the pairwise consistency
/// check.
inline constexpr std::string_view inconsistent_rsa_pem = R"(
-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEAofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd/wWJcyQoTbji9k0
l8W26mPddxHmfHQp+Vaw+4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL+yRT+SFd2lZS+pC
gNMsD1W/YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb/7OMg0LOL+bSf63kpaSHSX
ndS5z5rexMdbBYUsLA9e+KXBdQOS+UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uD
Zlxvb3qCo5ZwKh9kG4LT6/I5IhlJH7aGhyxXFvUK+DWNmoudF8NAco9/h9iaGNj8
q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQIDAQABAoIBABKucaRpzQorw35S
bEUAVx8dYXUdZOlJcHtiWQ+dC6V8ljxAHj/PLyzTveyI5QO/xkObCyjIL303l2cf
UhPu2MFaJdjVzqACXuOrLot/eSFvxjvqVidTtAZExqFRJ9mylUVAoLvhowVWmC1O
n95fZCXxTUtxNEG1Xcc7m0rtzJKs45J+N/V9DP1edYH6USyPSWGp6wuA+KgHRnKK
Vf9GRx80JQY7nVNkL17eHoTWEwga+lwi0FEoW9Y7lDtWXYmKBWhUE+U8PGxlJf8f
40493HDw1WRQ/aSLoS4QTp3rn7gYgeHEvfJdkkf0UMhlknlo53M09EFPdadQ4TlU
bjqKc58CgYEA4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH/5IB3jw3bcxGn6QLvnE
tfdUdiYrqBdss1l58BQ3KhooKeQTa9AB0Hw/Py5PJdTJNPY8cQn7ouZ2KKDcmnPG
BY5t7yLc1QlQ5xHdwW1VhvKn+nXqhJTBgIPgtldC+KDV5z+y2XDwGUcCgYEAuQPE
fgmVtjL0Uyyx88GZFF1fOunH3+7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYs
p1ZSe7zFYHj7C6ul7TjeLQeZD/YwD66t62wDmpe/HlB+TnBA+njbglfIsRLtXlnD
zQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdcCgYAHAp9XcCSrn8wVkMVkKdb7
DOX4IKjzdahm+ctDAJN4O/y7OW5FKebvUjdAIt2GuoTZ71iTG+7F0F+lP88jtjP4
U4qe7VHoewl4MKOfXZKTe+YCS1XbNvfgwJ3Ltyl1OH9hWvu2yza7q+d5PCsDzqtm
27kxuvULVeya+TEdAB1ijQKBgQCH/3r6YrVH/uCWGy6bzV1nGNOdjKc9tmkfOJmN
54dxdixdpozCQ6U4OxZrsj3FcOhHBsqAHvX2uuYjagqvo3cOj1TRqNocX40omfCC
Mx3bD1yPPf/6TI2XECva/ggqEY2mYzmIiA5LVVmc5nrybr+lssFKneeyxN2Wq93S
0iJMdQKBgCGHewxzoa1r8ZMD0LETNrToK423K377UCYqXfg5XMclbrjPbEC3YI1Z
NqMtuhdBJqUnBi6tjKMF+34Xf0CUN8ncuXGO2CAYvO8PdyCixHX52ybaDjy1FtCE
6yUXjoKNXKvUm7MWGsAYH6f4IegOetN5NvmUMFStCSkh7ixZLkN1
-----END RSA PRIVATE KEY-----
)";

/// An RSA-1024 key (below the 2048-bit minimum).
inline constexpr std::string_view rsa1024_pem = R"(
-----BEGIN PRIVATE KEY-----
MIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJcAgEAAoGBAKXTAAQkrbRkOYmg
c+xVoNGzdelRWdlq/G0UUpL7KF39mTBwaDyp/3CyN0ewqfITuVarG7po/H31K7Lg
DLxKDnZjDyM/xsH3pAm1KZefIsEl/Kb2j5faR59ceXGfoLMne7OfYfmXRW/meSSc
MGqPO7W2Gh3m+FN1DBu/MDnB2yCJAgMBAAECgYALhc/4ebwATv6Yi6fCgmi8aaYF
4ntF2mNUCRd70ywI6/hbH1R+8qknYZrpxmLoyWoVlapFl8oDzqeMtHjuFI9Qmf2p
80+NYBndKsrc2zYLqitmDDaKvqZ1t6bPmJlDPuHJNzUS4A05b8fIeQFOQ8D5fp4V
in7NSxZhGqHo72GXKQJBANru6Go1HrmB/aoBctsa6dAUIJPBSh0HUtzxD66RQZOA
BDZfsQXstQrCxIJowGsK1UnHXFO1NhNGz+cIwAlSwZMCQQDB5jhOWF93vT1c5AgX
oHhSQDUCa9/xIB+iBMVcmzOCYuOiOAUMHPJXbYHlvOmanvyNoDXoA5q+/g/c7n+b
YlbzAkBXm3xza5hE4WiRTA0a8lUXx8YVeiZfIVweP3RoBYY5MOP+oiIjXcpAaRnb
mXFOJEKfSGCAuqXN5usw50Z5NJ1zAkAsTWvECtEVTLm+haOLsnCLanwyJ2+takeP
/0MQ260zN2EHaYFNuTdt3ml1kmpVl8ngmiB2+Ivc47PAKQYi/J8dAkEAks/H5byc
Gf6a8zIwY44mhLyQC5c0bUnkOrmFMLRY8CRw81qtL7vq/9j+NsIo5Noq6DJWqrKW
yuJoBmCF1jFMgg==
-----END PRIVATE KEY-----
)";

/// A P-256 EC key (not RSA).
inline constexpr std::string_view ec_p256_pem = R"(
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgUCXVCy/N1KKwq/Gk
Jl93V3EFeHe1007zmDvs05SEGLahRANCAASI2VmUIMApuEQIoQPIYD4pd9zzsBGR
Ff0ckmsp2f/WTmAe8ag+gcCUc6barJIUmF9TtHIPrbM8/7JH1HIIlPE3
-----END PRIVATE KEY-----
)";

/// The key `r` holds (the test stops when it holds an error).
inline signing_key required_key(result<signing_key> r) {
    BOOST_TEST_REQUIRE(r.has_value());
    return std::move(*r);
}

/// The RFC 7515 A.2 key, loaded once.
inline signing_key const& rfc_key() {
    static signing_key const k = required_key(signing_key::from_pem(rfc7515_a2_pem));
    return k;
}

/// A freshly generated RSA-2048 key, generated once per test run.
inline signing_key const& generated_key() {
    static signing_key const k = required_key(signing_key::generate_rsa(2048));
    return k;
}

/// A second generated key, distinct from `generated_key()`.
inline signing_key const& other_generated_key() {
    static signing_key const k = required_key(signing_key::generate_rsa(2048));
    return k;
}

/// Adds a clone of `k` named `kid` to `ring` (the active key when `active`).
inline void add_clone(keyring& ring, signing_key const& k, std::string_view kid, bool active) {
    auto c = k.clone();
    BOOST_TEST_REQUIRE(c.has_value());
    c->set_kid(std::string(kid));
    ring.add(std::move(*c), active);
}

}  // namespace latchkey::crypto::test
