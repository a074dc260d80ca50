// The store contract against the in-memory backend (store/memory/): the same cases as LMDB's.
#define LATCHKEY_STORE_BACKEND memory_backend
#define LATCHKEY_STORE_SUITE store_memory
#define LATCHKEY_STORE_LMDB 0
#include "tests/unit/store/contract_cases.ipp"
