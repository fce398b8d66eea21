/* store_backend.h — what store.c needs from each backend, and helpers the backends share.
 * Private to src/store/: everything else goes through store.h. */
#ifndef SLIMY_STORE_BACKEND_H
#define SLIMY_STORE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "store/store.h"

/* Opens (creating if needed) the SQLite file at path, WAL mode and a busy timeout; applies
 * migrations when asked. Errors as store_open(). */
int store_sqlite_open(const char *path, bool apply_migrations, struct store **out, char *err, size_t err_len);

/* Connects the MariaDB pool described by cfg (DB_*); applies migrations under GET_LOCK when
 * asked. Errors as store_open(). */
int store_mariadb_open(const struct slimy_config *cfg, bool apply_migrations, struct store **out, char *err,
                       size_t err_len);

#endif
