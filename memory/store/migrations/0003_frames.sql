-- Stored frames: bytes of each observation's full-size frame file (NULL once thinned to its
-- thumbnail, or for rows without a frame), so retention and the disk quota never walk the disk.
ALTER TABLE observations ADD COLUMN frame_bytes INTEGER;
CREATE INDEX observations_frame_bytes ON observations (ts_start) WHERE frame_bytes IS NOT NULL;
