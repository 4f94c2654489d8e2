-- Engram schema v1. SQLite is the system of record; FTS5 and Chroma are derived indexes.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Everything captured: the timeline. Append-only; only a user's "forget" removes rows.
CREATE TABLE observations (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('screen', 'audio', 'chat', 'import')),
    ext_id       TEXT,                 -- message id or manifest id given by an import
    ts_start     REAL NOT NULL,        -- unix seconds, UTC
    ts_end       REAL,
    app          TEXT,
    window_title TEXT,
    url          TEXT,
    monitor      INTEGER,
    speaker      TEXT,
    session      TEXT,
    text         TEXT NOT NULL DEFAULT '',
    context      TEXT NOT NULL DEFAULT '',  -- neighbouring text that helps search (not shown)
    frame_path   TEXT,
    thumb_path   TEXT,
    phash        INTEGER,
    status       TEXT NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'indexed', 'memorized', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    error        TEXT,
    created_at   REAL NOT NULL
);
CREATE INDEX observations_ts ON observations (ts_start);
CREATE INDEX observations_status ON observations (status, id);
CREATE INDEX observations_app_ts ON observations (app, ts_start);
CREATE UNIQUE INDEX observations_ext ON observations (kind, ext_id) WHERE ext_id IS NOT NULL;

CREATE VIRTUAL TABLE observations_fts USING fts5 (
    text, window_title, app, url, context,
    content = 'observations', content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER observations_ai AFTER INSERT ON observations BEGIN
    INSERT INTO observations_fts (rowid, text, window_title, app, url, context)
    VALUES (new.id, new.text, new.window_title, new.app, new.url, new.context);
END;
CREATE TRIGGER observations_ad AFTER DELETE ON observations BEGIN
    INSERT INTO observations_fts (observations_fts, rowid, text, window_title, app, url, context)
    VALUES ('delete', old.id, old.text, old.window_title, old.app, old.url, old.context);
END;
CREATE TRIGGER observations_au AFTER UPDATE OF text, window_title, app, url, context ON observations
BEGIN
    INSERT INTO observations_fts (observations_fts, rowid, text, window_title, app, url, context)
    VALUES ('delete', old.id, old.text, old.window_title, old.app, old.url, old.context);
    INSERT INTO observations_fts (rowid, text, window_title, app, url, context)
    VALUES (new.id, new.text, new.window_title, new.app, new.url, new.context);
END;

-- Columns every memory shares. The six typed tables below hold each type's own fields.
CREATE TABLE memories (
    id            INTEGER PRIMARY KEY,
    type          TEXT NOT NULL CHECK (type IN
                  ('core', 'episodic', 'semantic', 'procedural', 'resource', 'vault')),
    title         TEXT NOT NULL DEFAULT '',   -- label / name / title / caption
    summary       TEXT NOT NULL DEFAULT '',
    details       TEXT NOT NULL DEFAULT '',
    ts            REAL NOT NULL,              -- when it happened (episodic) or was learnt
    tree_path     TEXT NOT NULL DEFAULT '[]', -- JSON list of category names
    source_ids    TEXT NOT NULL DEFAULT '[]', -- JSON list of observation ids (provenance)
    created_at    REAL NOT NULL,
    updated_at    REAL NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1,
    superseded_by INTEGER REFERENCES memories (id),
    deleted_at    REAL
);
CREATE INDEX memories_type_ts ON memories (type, ts);
CREATE INDEX memories_live ON memories (deleted_at, superseded_by);

CREATE TABLE memory_sources (
    memory_id      INTEGER NOT NULL REFERENCES memories (id) ON DELETE CASCADE,
    observation_id INTEGER NOT NULL,
    PRIMARY KEY (observation_id, memory_id)
) WITHOUT ROWID;
CREATE INDEX memory_sources_memory ON memory_sources (memory_id);

CREATE VIRTUAL TABLE memories_fts USING fts5 (
    title, summary, details,
    content = 'memories', content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER memories_ai AFTER INSERT ON memories BEGIN
    INSERT INTO memories_fts (rowid, title, summary, details)
    VALUES (new.id, new.title, new.summary, new.details);
END;
CREATE TRIGGER memories_ad AFTER DELETE ON memories BEGIN
    INSERT INTO memories_fts (memories_fts, rowid, title, summary, details)
    VALUES ('delete', old.id, old.title, old.summary, old.details);
END;
CREATE TRIGGER memories_au AFTER UPDATE OF title, summary, details ON memories BEGIN
    INSERT INTO memories_fts (memories_fts, rowid, title, summary, details)
    VALUES ('delete', old.id, old.title, old.summary, old.details);
    INSERT INTO memories_fts (rowid, title, summary, details)
    VALUES (new.id, new.title, new.summary, new.details);
END;

-- Typed fields. The shared columns carry the rest: core label = title and value = details;
-- semantic name = title; procedural steps also joined into details; resource content = details;
-- vault caption = title (the secret itself only ever as ciphertext here).
CREATE TABLE core_memory (
    id         INTEGER PRIMARY KEY REFERENCES memories (id) ON DELETE CASCADE,
    label      TEXT NOT NULL,
    char_limit INTEGER NOT NULL DEFAULT 5000
);
CREATE TABLE episodic_memory (
    id          INTEGER PRIMARY KEY REFERENCES memories (id) ON DELETE CASCADE,
    occurred_at REAL NOT NULL,
    ended_at    REAL,
    actor       TEXT NOT NULL DEFAULT 'user',
    event_type  TEXT NOT NULL DEFAULT 'activity'
);
CREATE TABLE semantic_memory (
    id     INTEGER PRIMARY KEY REFERENCES memories (id) ON DELETE CASCADE,
    source TEXT NOT NULL DEFAULT ''
);
CREATE TABLE procedural_memory (
    id         INTEGER PRIMARY KEY REFERENCES memories (id) ON DELETE CASCADE,
    entry_type TEXT NOT NULL CHECK (entry_type IN ('workflow', 'guide', 'script')),
    steps      TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE resource_memory (
    id            INTEGER PRIMARY KEY REFERENCES memories (id) ON DELETE CASCADE,
    resource_type TEXT NOT NULL DEFAULT 'doc',
    uri           TEXT
);
CREATE TABLE vault_memory (
    id          INTEGER PRIMARY KEY REFERENCES memories (id) ON DELETE CASCADE,
    entry_type  TEXT NOT NULL DEFAULT 'credential',
    source      TEXT NOT NULL DEFAULT '',
    sensitivity TEXT NOT NULL DEFAULT 'high' CHECK (sensitivity IN ('low', 'medium', 'high')),
    secret_ct   BLOB            -- AES-GCM nonce + ciphertext; never plaintext
);

-- Append-only audit of every change to a memory.
CREATE TABLE memory_events (
    id        INTEGER PRIMARY KEY,
    memory_id INTEGER,
    ts        REAL NOT NULL,
    agent     TEXT NOT NULL,
    op        TEXT NOT NULL CHECK (op IN ('insert', 'update', 'merge', 'delete', 'supersede', 'forget')),
    before    TEXT,
    after     TEXT
);
CREATE INDEX memory_events_memory ON memory_events (memory_id, id);

CREATE TABLE chat_sessions (
    id         INTEGER PRIMARY KEY,
    title      TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE chat_messages (
    id             INTEGER PRIMARY KEY,
    session_id     INTEGER NOT NULL REFERENCES chat_sessions (id) ON DELETE CASCADE,
    role           TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
    content        TEXT NOT NULL,
    citations      TEXT NOT NULL DEFAULT '[]',
    observation_id INTEGER,
    ts             REAL NOT NULL
);
CREATE INDEX chat_messages_session ON chat_messages (session_id, id);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
