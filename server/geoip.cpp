#include "server/geoip.hpp"

#include "server/http/params.hpp"

#include <maxminddb.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace latchkey::server {

struct geoip::impl {
    MMDB_s db{};
};

geoip::geoip(std::string const& path) : impl_(std::make_unique<impl>()) {
    int const rc = MMDB_open(path.c_str(), MMDB_MODE_MMAP, &impl_->db);
    if (rc != MMDB_SUCCESS) {
        std::string why = MMDB_strerror(rc);
        if (rc == MMDB_IO_ERROR) why += std::string(" (") + std::strerror(errno) + ")";
        throw std::runtime_error("geoip_database: cannot open '" + path + "': " + why);
    }
}

geoip::~geoip() { MMDB_close(&impl_->db); }

std::string_view geoip::database_type() const noexcept {
    char const* t = impl_->db.metadata.database_type;
    return t != nullptr ? std::string_view(t) : std::string_view{};
}

namespace {

/// The UTF-8 string at `path...` under `entry`, or "" when absent or of another type.
template <class... Path>
std::string_view string_at(MMDB_entry_s& entry, Path... path) noexcept {
    MMDB_entry_data_s data{};
    if (MMDB_get_value(&entry, &data, path..., static_cast<char const*>(nullptr)) != MMDB_SUCCESS) return {};
    if (!data.has_data || data.type != MMDB_DATA_TYPE_UTF8_STRING) return {};
    return {data.utf8_string, data.data_size};
}

}  // namespace

geo_place geoip::lookup(std::string const& ip) const noexcept {
    geo_place out;
    if (ip.empty()) return out;
    int gai_error = 0;
    int mmdb_error = 0;
    // ip is a canonical numeric address (activity.cpp parses it first): getaddrinfo with AI_NUMERICHOST,
    // which libmaxminddb uses, does no name resolution.
    MMDB_lookup_result_s res = MMDB_lookup_string(&impl_->db, ip.c_str(), &gai_error, &mmdb_error);
    if (gai_error != 0 || mmdb_error != MMDB_SUCCESS || !res.found_entry) return out;
    try {
        std::string_view city = string_at(res.entry, "city", "names", "en");
        if (city.size() <= max_city_bytes && valid_utf8(city)) out.city.assign(city);
        std::string_view cc = string_at(res.entry, "country", "iso_code");
        if (cc.empty()) cc = string_at(res.entry, "registered_country", "iso_code");
        if (cc.size() == 2 && cc[0] >= 'A' && cc[0] <= 'Z' && cc[1] >= 'A' && cc[1] <= 'Z') out.country.assign(cc);
    } catch (...) {  // std::bad_alloc: no place rather than no session
        return {};
    }
    return out;
}

}  // namespace latchkey::server
