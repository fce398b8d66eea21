-- 0001_init — Slimy's first schema for MariaDB; the same tables and columns as
-- migrations/sqlite/0001_init.sql. Timestamps are unix milliseconds (BIGINT), never DATETIME,
-- so both dialects compare them the same way. ids are Discord snowflakes, "dm:<channel id>"
-- scopes or UUIDs. Keys (ids, parameter, command) are utf8mb4_nopad_bin: compared and sorted
-- byte for byte as in SQLite, so "DM:ABC" is not "dm:abc" and a trailing space is not dropped
-- (store.h); free text keeps the case-insensitive default. Every CREATE says IF NOT EXISTS:
-- MariaDB commits DDL one statement at a time, so a run that stopped half way must be able to
-- run again. schema_migrations is created by the runner (store_mariadb.c), not here.

CREATE TABLE IF NOT EXISTS users (
    user_id VARCHAR(40) COLLATE utf8mb4_nopad_bin NOT NULL,
    username VARCHAR(100) NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    PRIMARY KEY (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS consents (
    user_id VARCHAR(40) COLLATE utf8mb4_nopad_bin NOT NULL,
    scope_id VARCHAR(40) COLLATE utf8mb4_nopad_bin NOT NULL,
    allowed TINYINT(1) NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    PRIMARY KEY (user_id, scope_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- seq orders memories by insertion (newest first = seq DESC); id is the public UUID.
CREATE TABLE IF NOT EXISTS memories (
    seq BIGINT NOT NULL AUTO_INCREMENT,
    id VARCHAR(36) COLLATE utf8mb4_nopad_bin NOT NULL,
    user_id VARCHAR(40) COLLATE utf8mb4_nopad_bin NOT NULL,
    scope_id VARCHAR(40) COLLATE utf8mb4_nopad_bin NOT NULL,
    note TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]',
    context TEXT NOT NULL DEFAULT '{}',
    interaction_id VARCHAR(40) COLLATE utf8mb4_nopad_bin NULL,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (seq),
    UNIQUE KEY memories_id (id),
    UNIQUE KEY memories_interaction (interaction_id),
    KEY memories_user_scope (user_id, scope_id, seq)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- target_type: 0 category, 1 channel, 2 thread (enum store_target_type); modes: a bit set.
CREATE TABLE IF NOT EXISTS mode_configs (
    guild_id VARCHAR(40) COLLATE utf8mb4_nopad_bin NOT NULL,
    target_type TINYINT NOT NULL,
    target_id VARCHAR(40) COLLATE utf8mb4_nopad_bin NOT NULL,
    modes INT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    PRIMARY KEY (guild_id, target_type, target_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS personality_adjustments (
    scope_id VARCHAR(40) COLLATE utf8mb4_nopad_bin NOT NULL,
    parameter VARCHAR(32) COLLATE utf8mb4_nopad_bin NOT NULL,
    value INT NOT NULL,
    updated_by VARCHAR(40) COLLATE utf8mb4_nopad_bin NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    PRIMARY KEY (scope_id, parameter)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per analysed screenshot; a NULL stat was not readable from it.
CREATE TABLE IF NOT EXISTS snail_stats (
    id BIGINT NOT NULL AUTO_INCREMENT,
    user_id VARCHAR(40) COLLATE utf8mb4_nopad_bin NOT NULL,
    scope_id VARCHAR(40) COLLATE utf8mb4_nopad_bin NOT NULL,
    screenshot_url VARCHAR(500) NULL,
    hp BIGINT NULL,
    atk BIGINT NULL,
    def BIGINT NULL,
    rush BIGINT NULL,
    fame BIGINT NULL,
    tech BIGINT NULL,
    art BIGINT NULL,
    civ BIGINT NULL,
    fth BIGINT NULL,
    analysis_text TEXT NULL,
    interaction_id VARCHAR(40) COLLATE utf8mb4_nopad_bin NULL,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY snail_stats_interaction (interaction_id),
    KEY snail_stats_user_scope (user_id, scope_id, id),
    KEY snail_stats_scope (scope_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS image_generation_log (
    id BIGINT NOT NULL AUTO_INCREMENT,
    user_id VARCHAR(40) COLLATE utf8mb4_nopad_bin NOT NULL,
    scope_id VARCHAR(40) COLLATE utf8mb4_nopad_bin NULL,
    channel_id VARCHAR(40) COLLATE utf8mb4_nopad_bin NULL,
    prompt TEXT NOT NULL,
    enhanced_prompt TEXT NULL,
    style VARCHAR(50) NULL,
    rating VARCHAR(20) NULL,
    model VARCHAR(50) NULL,
    success TINYINT(1) NOT NULL,
    error_message TEXT NULL,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (id),
    KEY image_generation_log_user (user_id),
    KEY image_generation_log_scope (scope_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS command_usage (
    id BIGINT NOT NULL AUTO_INCREMENT,
    user_id VARCHAR(40) COLLATE utf8mb4_nopad_bin NOT NULL,
    scope_id VARCHAR(40) COLLATE utf8mb4_nopad_bin NULL,
    command VARCHAR(64) COLLATE utf8mb4_nopad_bin NOT NULL,
    success TINYINT(1) NOT NULL,
    latency_ms BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (id),
    KEY command_usage_scope_user (scope_id, user_id),
    KEY command_usage_created (created_at_ms)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
