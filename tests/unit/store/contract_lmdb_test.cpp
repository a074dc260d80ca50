// The store contract against the LMDB backend (store/lmdb/), plus its LMDB-only cases.
#define LATCHKEY_STORE_BACKEND lmdb_backend
#define LATCHKEY_STORE_SUITE store_lmdb
#define LATCHKEY_STORE_LMDB 1
#include "tests/unit/store/contract_cases.ipp"
