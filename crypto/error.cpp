#include "crypto/error.hpp"

#include <string>

namespace latchkey::crypto {

namespace {

// NOLINTNEXTLINE(cppcoreguidelines-virtual-class-destructor)
class category final : public boost::system::error_category {
public:
    char const* name() const noexcept override { return "latchkey.crypto"; }

    std::string message(int ev) const override { return describe(ev); }

    char const* message(int ev, char* /*buffer*/, std::size_t /*len*/) const noexcept override { return describe(ev); }

private:
    static char const* describe(int ev) noexcept {
        switch (static_cast<errc>(ev)) {
            case errc::openssl:
                return "OpenSSL operation failed";
            case errc::invalid_key:
                return "invalid key";
            case errc::invalid_token:
                return "malformed token";
            case errc::bad_signature:
                return "signature does not verify";
            case errc::unsupported_algorithm:
                return "unsupported algorithm";
            case errc::invalid_encoding:
                return "invalid encoding";
            case errc::hash_failed:
                return "password hashing failed";
            case errc::unsupported_hasher:
                return "unsupported password hasher";
        }
        return "unknown crypto error";
    }
};

}  // namespace

boost::system::error_category const& error_category() noexcept {
    static category const instance;
    return instance;
}

}  // namespace latchkey::crypto
