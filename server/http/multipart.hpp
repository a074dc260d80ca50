#pragma once
// multipart/form-data (RFC 7578 over the multipart syntax of RFC 2046 section 5.1.1): a pure function over a
// request body. Parts are views into the body (no copies); the sizes it allocates for are bounded by `limits`.
#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace latchkey::server {

/// One part: the Content-Disposition `name` and `filename` (verbatim between their quotes, not unescaped), its
/// Content-Type ("" when absent: text/plain by RFC 7578 4.4) and its bytes.
struct multipart_part {
    std::string_view name;
    std::string_view filename;
    bool has_filename = false;  ///< a `filename` parameter was present (a file field), even if empty
    std::string_view content_type;
    std::string_view data;
};

enum class multipart_status {
    ok,
    not_multipart,    ///< the Content-Type is not multipart/form-data
    bad_boundary,     ///< no boundary parameter, or one that breaks RFC 2046's rules (1..70 bchars, no trailing space)
    malformed,        ///< no opening or closing delimiter, a bad part header, a part without a form-data name
    too_many_parts,   ///< more than limits.max_parts
    header_too_large  ///< one part's header block is longer than limits.max_header_bytes
};

struct multipart_limits {
    std::size_t max_parts = 16;
    std::size_t max_header_bytes = 4096;  ///< one part's header block (its lines and their CRLFs)
};

/// The boundary parameter of a `multipart/form-data` Content-Type (quoted or token form, the type and parameter
/// names matched without regard to case), or nullopt when the type is another or the boundary is invalid.
/// `*status` (optional) tells which.
std::optional<std::string_view> multipart_boundary(std::string_view content_type,
                                                   multipart_status* status = nullptr) noexcept;

/// Parses `body` framed by the Content-Type's boundary into `out` (cleared first). The preamble and epilogue are
/// ignored; every part must carry `Content-Disposition: form-data; name="..."`. On any status but ok, `out` is
/// left empty.
multipart_status parse_multipart(std::string_view content_type, std::string_view body, std::vector<multipart_part>& out,
                                 multipart_limits const& limits = {});

/// The first part named `name`, or nullptr.
multipart_part const* find_part(std::vector<multipart_part> const& parts, std::string_view name) noexcept;

}  // namespace latchkey::server
