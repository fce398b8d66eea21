-- 0001_init.sql (SQLite) — the first schema: users and consent, memories, mode configs,
-- personality adjustments, Super Snail stats, the image-generation log and command usage.
-- migrations/mariadb/0001_init.sql holds the same tables and columns in the MariaDB dialect.
-- Applied once by store_sqlite.c inside a transaction, so plain CREATE (no IF NOT EXISTS):
-- a table that already exists is a fault to report, not to skip. Times are unix milliseconds.

CREATE TABLE users (
    user_id TEXT PRIMARY KEY,
    username TEXT,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
);

CREATE TABLE consents (
    user_id TEXT NOT NULL,
    scope_id TEXT NOT NULL,
    allowed INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (user_id, scope_id)
);

-- seq orders memories (newest first) and never goes back: AUTOINCREMENT never reuses a rowid.
CREATE TABLE memories (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL,
    scope_id TEXT NOT NULL,
    note TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]',
    context TEXT NOT NULL DEFAULT '{}',
    interaction_id TEXT UNIQUE,
    created_at_ms INTEGER NOT NULL
);
CREATE INDEX memories_user_scope_seq ON memories (user_id, scope_id, seq);

CREATE TABLE mode_configs (
    guild_id TEXT NOT NULL,
    target_type INTEGER NOT NULL,
    target_id TEXT NOT NULL,
    modes INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (guild_id, target_type, target_id)
);

CREATE TABLE personality_adjustments (
    scope_id TEXT NOT NULL,
    parameter TEXT NOT NULL,
    value INTEGER NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (scope_id, parameter)
);

-- A NULL stat is one the screenshot did not show.
CREATE TABLE snail_stats (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL,
    scope_id TEXT NOT NULL,
    screenshot_url TEXT,
    hp INTEGER,
    atk INTEGER,
    def INTEGER,
    rush INTEGER,
    fame INTEGER,
    tech INTEGER,
    art INTEGER,
    civ INTEGER,
    fth INTEGER,
    analysis_text TEXT,
    interaction_id TEXT UNIQUE,
    created_at_ms INTEGER NOT NULL
);
CREATE INDEX snail_stats_user_scope_id ON snail_stats (user_id, scope_id, id);
CREATE INDEX snail_stats_scope ON snail_stats (scope_id);

CREATE TABLE image_generation_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL,
    scope_id TEXT,
    channel_id TEXT,
    prompt TEXT NOT NULL,
    enhanced_prompt TEXT,
    style TEXT,
    rating TEXT,
    model TEXT,
    success INTEGER NOT NULL,
    error_message TEXT,
    created_at_ms INTEGER NOT NULL
);
CREATE INDEX image_generation_log_user ON image_generation_log (user_id);
CREATE INDEX image_generation_log_scope ON image_generation_log (scope_id);

CREATE TABLE command_usage (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL,
    scope_id TEXT,
    command TEXT NOT NULL,
    success INTEGER NOT NULL,
    latency_ms INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL
);
CREATE INDEX command_usage_scope_user ON command_usage (scope_id, user_id);
CREATE INDEX command_usage_created ON command_usage (created_at_ms);
