/* migrations.h — the numbered SQL files of migrations/<dialect>/NNNN_name.sql, compiled into the
 * binary (CMake generates migrations_data.c from them), so a deployed `slimy` never depends on
 * its working directory. Each backend applies the ones not yet in its schema_migrations table,
 * in name order, each in a transaction where the dialect allows (SQLite; MariaDB DDL commits
 * implicitly). Pure data; thread-safe. */
#ifndef SLIMY_STORE_MIGRATIONS_H
#define SLIMY_STORE_MIGRATIONS_H

#include <stddef.h>

struct migration {
    const char *dialect; /* "sqlite" or "mariadb" */
    const char *name;    /* "0001_init": the file name without .sql */
    const char *sql;     /* the whole script, NUL-terminated */
    size_t len;          /* bytes in sql */
};

/* The migrations of one dialect sorted by name; *n gets their count (0 for an unknown dialect). */
const struct migration *migrations_list(const char *dialect, size_t *n);

#endif
