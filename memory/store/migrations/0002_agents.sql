-- Memory agents (#5): proposals the user confirms, the agents' run log, and a resource-uri index.

-- Operations not applied automatically (e.g. a batch that deletes more than a few memories):
-- kept here until the user confirms or rejects them.
CREATE TABLE memory_proposals (
    id         INTEGER PRIMARY KEY,
    ts         REAL NOT NULL,
    agent      TEXT NOT NULL,
    reason     TEXT NOT NULL,
    ops        TEXT NOT NULL,              -- JSON list of operations
    source_ids TEXT NOT NULL DEFAULT '[]', -- observations of the batch that proposed them
    status     TEXT NOT NULL DEFAULT 'pending'
               CHECK (status IN ('pending', 'applied', 'rejected'))
);
CREATE INDEX memory_proposals_status ON memory_proposals (status, id);

-- One row per manager call or batch outcome: accepted, rejected (with the reason), failed.
CREATE TABLE agent_log (
    id       INTEGER PRIMARY KEY,
    ts       REAL NOT NULL,
    agent    TEXT NOT NULL,
    outcome  TEXT NOT NULL CHECK (outcome IN ('applied', 'rejected', 'failed', 'retry', 'proposed')),
    detail   TEXT NOT NULL DEFAULT '',
    obs_from INTEGER,
    obs_to   INTEGER
);
CREATE INDEX agent_log_ts ON agent_log (ts);

CREATE INDEX resource_memory_uri ON resource_memory (uri);
