#include "store/error.hpp"

#include <string>

namespace latchkey::store {

namespace {
class category final : public boost::system::error_category {  // NOLINT(cppcoreguidelines-virtual-class-destructor)
public:
    char const* name() const noexcept override { return "latchkey.store"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::not_found:
                return "record not found";
            case errc::key_exists:
                return "a unique key is already taken";
            case errc::map_full:
                return "the store is full (raise map_size)";
            case errc::corrupted:
                return "a record or the database is corrupted";
            case errc::lmdb:
                return "storage failure";
            case errc::invalid_key:
                return "a key is empty or too long to store";
            case errc::aborted:
                return "the transaction was aborted by its caller";
            case errc::unavailable:
                return "the shared store (PostgreSQL) is unavailable";
            case errc::conflict:
                return "the write kept conflicting with other nodes' writes";
        }
        return "unknown store error";
    }
};
}  // namespace

boost::system::error_category const& error_category() noexcept {
    static category const c;
    return c;
}

}  // namespace latchkey::store
