#ifndef IVKEYS_CSQLITE_SHIM_H
#define IVKEYS_CSQLITE_SHIM_H
#include <sqlite3.h>

// SQLITE_TRANSIENT is a macro casting -1 to a function pointer, which Swift cannot import.
// "If the seventh argument is SQLITE_TRANSIENT, SQLite makes its own private copy of the data
// immediately, before the sqlite3_bind_*() routine returns."
static inline sqlite3_destructor_type ivkeys_sqlite_transient(void) { return SQLITE_TRANSIENT; }
#endif
