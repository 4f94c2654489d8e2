-- Image memory (#17): screens waiting for a CLIP image vector. A row is added when a screen is
-- indexed while an image model is available (or by a backfill) and removed once its vector is in
-- the image collection; a frame that fails counts attempts and waits (next_at) before a retry.
-- The text side never waits for it. Forgetting the observation removes its row (cascade).
CREATE TABLE image_queue (
    obs_id   INTEGER PRIMARY KEY REFERENCES observations(id) ON DELETE CASCADE,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at  REAL NOT NULL DEFAULT 0,
    error    TEXT
);
