-- Journals that make derived copies follow the system of record across crashes (#12).

-- Vector work owed by committed changes: written by triggers in the same transaction as the
-- change, drained after the commit and at start-up. "o:ID" re-embeds or drops an observation's
-- chunks, "m:ID" a memory's vector, by what the row holds when the entry is drained.
CREATE TABLE vector_outbox (
    id  INTEGER PRIMARY KEY AUTOINCREMENT,
    vid TEXT NOT NULL
);
CREATE TRIGGER memories_outbox_ai AFTER INSERT ON memories BEGIN
    INSERT INTO vector_outbox (vid) VALUES ('m:' || new.id);
END;
CREATE TRIGGER memories_outbox_au
AFTER UPDATE OF title, summary, details, ts, type, superseded_by, deleted_at ON memories BEGIN
    INSERT INTO vector_outbox (vid) VALUES ('m:' || new.id);
END;
CREATE TRIGGER memories_outbox_ad AFTER DELETE ON memories BEGIN
    INSERT INTO vector_outbox (vid) VALUES ('m:' || old.id);
END;
CREATE TRIGGER observations_outbox_ad AFTER DELETE ON observations BEGIN
    INSERT INTO vector_outbox (vid) VALUES ('o:' || old.id);
END;
-- Text changes of an observation already indexed (a forget rewriting a neighbour's context, a
-- redaction); the indexer's own writes happen while the row is still pending.
CREATE TRIGGER observations_outbox_au
AFTER UPDATE OF text, context, window_title, app, ts_start ON observations
WHEN old.status != 'pending' AND new.status != 'pending' BEGIN
    INSERT INTO vector_outbox (vid) VALUES ('o:' || new.id);
END;

-- Files a committed forget owes the disk: recorded in the forget's transaction, unlinked after the
-- commit and swept at every start-up, so a crash between the two never keeps a forgotten frame.
CREATE TABLE pending_deletions (
    path TEXT PRIMARY KEY   -- relative to the home
) WITHOUT ROWID;
