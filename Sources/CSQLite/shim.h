#ifndef IVKEYS_CSQLITE_SHIM_H
#define IVKEYS_CSQLITE_SHIM_H
#include <sqlite3.h>

// SQLITE_TRANSIENT is a macro casting -1 to a function pointer, which Swift cannot import.
// "If the seventh argument is SQLITE_TRANSIENT, SQLite makes its own private copy of the data
// immediately, before the sqlite3_bind_*() routine returns."
static inline sqlite3_destructor_type ivkeys_sqlite_transient(void) { return SQLITE_TRANSIENT; }

// "SQLITE_FCNTL_PERSIST_WAL ... the WAL file ... remains after the last connection closes": the
// checkpoint on close still copies it into the database, but the next process neither creates
// the file again nor syncs the directory for it.
static inline int ivkeys_sqlite_persist_wal(sqlite3 *db) {
  int on = 1;
  return sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &on);
}
#endif
