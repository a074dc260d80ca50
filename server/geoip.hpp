#pragma once
// GeoIP: the city and country of a client address, from a MaxMind DB file (GeoLite2-City, GeoIP2-City or any
// database with the same `city.names.en` and `country.iso_code` layout), read with libmaxminddb.
//
// The file is opened (memory-mapped) once at start; lookups are in-memory reads of the map, thread-safe and
// free of I/O, so handlers may call them.
#include <memory>
#include <string>
#include <string_view>

namespace latchkey::server {

/// Where an address is, as far as the database knows. Empty strings mean unknown.
struct geo_place {
    std::string city;     ///< English name, valid UTF-8, at most max_city_bytes (longer names are dropped)
    std::string country;  ///< ISO 3166-1 alpha-2 code (two upper-case letters), or ""
};

class geoip {
public:
    /// The longest city name kept.
    static constexpr std::size_t max_city_bytes = 128;

    /// Opens (memory-maps) the database at `path`. Throws std::runtime_error naming the file and libmaxminddb's
    /// reason when it is missing, unreadable or not a MaxMind DB.
    explicit geoip(std::string const& path);
    ~geoip();
    geoip(geoip const&) = delete;
    geoip& operator=(geoip const&) = delete;

    /// The place of `ip` (textual IPv4 or IPv6 address; numeric only, never resolved). Unknown addresses,
    /// malformed input and IPv6 addresses in an IPv4-only database give an empty place.
    geo_place lookup(std::string const& ip) const noexcept;

    /// The database type from its metadata (e.g. "GeoLite2-City").
    std::string_view database_type() const noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace latchkey::server
