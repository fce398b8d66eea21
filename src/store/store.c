/* store.c — choosing a driver, and the helpers every driver and caller share (result freeing,
 * UUIDs). The ops live in store_sql.c, the database specifics in sql_driver_sqlite.c and
 * sql_driver_mariadb.c. */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/status.h"
#include "store/sql_driver.h"

int store_open(const struct slimy_config *cfg, bool apply_migrations, struct store **out, char *err, size_t err_len)
{
    if (err_len)
        err[0] = '\0';
    if (cfg->db_host && *cfg->db_host)
        return store_mariadb_open(cfg, apply_migrations, out, err, err_len);
    return store_sqlite_open(cfg->sqlite_path, apply_migrations, out, err, err_len);
}

void store_close(struct store *st)
{
    if (st)
        st->ops->close(st);
}

void store_memories_free(struct store_memories *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->items[i].note);
        free(m->items[i].tags_json);
        free(m->items[i].context_json);
    }
    free(m->items);
    m->items = NULL;
    m->n = 0;
}

void store_mode_configs_free(struct store_mode_configs *m)
{
    free(m->items);
    m->items = NULL;
    m->n = 0;
}

void store_adjustments_free(struct store_adjustments *a)
{
    free(a->items);
    a->items = NULL;
    a->n = 0;
}

void store_snail_stats_list_free(struct store_snail_stats_list *l)
{
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

void store_leaderboard_free(struct store_leaderboard *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i].user_name);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

void store_names_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

void store_uuid_v4(char out[STORE_ID_MAX])
{
    unsigned char b[16];
    randombytes_buf(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    snprintf(out, STORE_ID_MAX, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}
