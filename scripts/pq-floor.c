/* make bench (scripts/bench-postgres.sh): the least any process that checks a key on a
 * PostgreSQL vault must do, as ivkeys does it: load Debian's libpq with dlopen (RTLD_NOW, as
 * LibPQ.swift), connect, and make one round trip (SELECT 1). Nothing of ivkeys' own work is
 * here, so its median time is a floor under `ivkeys verify` on PostgreSQL.
 * Usage: pq-floor CONNINFO; exit 0 when connected and answered. */
#include <dlfcn.h>
#include <stddef.h>

typedef void *(*connect_fn)(const char *);
typedef int (*status_fn)(const void *);
typedef void *(*exec_fn)(void *, const char *);
typedef int (*result_status_fn)(const void *);
typedef void (*clear_fn)(void *);
typedef void (*finish_fn)(void *);

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  void *lib = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) return 1;
  connect_fn connect = (connect_fn)dlsym(lib, "PQconnectdb");
  status_fn status = (status_fn)dlsym(lib, "PQstatus");
  exec_fn exec = (exec_fn)dlsym(lib, "PQexec");
  result_status_fn result_status = (result_status_fn)dlsym(lib, "PQresultStatus");
  clear_fn clear = (clear_fn)dlsym(lib, "PQclear");
  finish_fn finish = (finish_fn)dlsym(lib, "PQfinish");
  if (!connect || !status || !exec || !result_status || !clear || !finish) return 1;
  void *conn = connect(argv[1]);
  if (conn == NULL || status(conn) != 0 /* CONNECTION_OK */) return 1;
  void *res = exec(conn, "SELECT 1");
  int ok = res != NULL && result_status(res) == 2 /* PGRES_TUPLES_OK */;
  clear(res);
  finish(conn);
  return ok ? 0 : 1;
}
