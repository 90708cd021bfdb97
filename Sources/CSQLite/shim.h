#ifndef IVKEYS_CSQLITE_SHIM_H
#define IVKEYS_CSQLITE_SHIM_H
#include <sqlite3.h>

// SQLITE_TRANSIENT is a macro casting -1 to a function pointer, which Swift cannot import.
// "If the seventh argument is SQLITE_TRANSIENT, SQLite makes its own private copy of the data
// immediately, before the sqlite3_bind_*() routine returns."
static inline sqlite3_destructor_type ivkeys_sqlite_transient(void) { return SQLITE_TRANSIENT; }

// "SQLITE_FCNTL_PERSIST_WAL ... the WAL file ... remains after the last connection closes": the
// next process neither creates the file again nor syncs the directory for it.
// sqlite3_db_config takes variable arguments, which Swift cannot pass.
// "SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE ... the default checkpoint-on-close behaviour is disabled":
// a command run once per request does not pay for a checkpoint (three fsyncs) on every exit.
static inline int ivkeys_sqlite_no_checkpoint_on_close(sqlite3 *db) {
  return sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)0);
}
static inline int ivkeys_sqlite_persist_wal(sqlite3 *db) {
  int on = 1;
  return sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &on);
}
#endif
