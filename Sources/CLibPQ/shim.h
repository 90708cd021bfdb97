#ifndef IVKEYS_CLIBPQ_SHIM_H
#define IVKEYS_CLIBPQ_SHIM_H
// PostgreSQL's client library, for its types and constants only: there is no `link` line.
// libpq.so.5 pulls in some two dozen shared libraries (GnuTLS, Kerberos, LDAP, ...), so linking
// it would slow every start of ivkeys, SQLite vaults included. `LibPQ` loads it with dlopen when
// a PostgreSQL vault is named, and takes each function from it with dlsym.
// Debian's libpq-dev puts the header in /usr/include/postgresql; its own includes are quoted,
// so they are found beside it.
#include <postgresql/libpq-fe.h>
#endif
