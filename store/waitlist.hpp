#pragma once
// The waitlist family's backend-neutral rules (the records and the repository are in store/records.hpp and
// store/store.hpp): which entries a BAPI filter matches and in which order, so every backend lists alike.
#include "store/records.hpp"
#include "store/store.hpp"

#include <cstddef>
#include <vector>

namespace latchkey::store {

/// True when `r` passes f's status and query filters.
bool matches(waitlist_entry_record const& r, waitlist_filter const& f) noexcept;

/// Orders the matching entries `all` (in creation order) per f.order_by, sets `*total`, returns f's page.
std::vector<waitlist_entry_record> select(std::vector<waitlist_entry_record> all, waitlist_filter const& f,
                                          std::size_t* total);

}  // namespace latchkey::store
