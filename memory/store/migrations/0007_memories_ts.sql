-- Memories by time (#16): a search with a time range bounds the memories' FTS rowids with the ids
-- of the memories in that range (memory.search.fts.id_range), which reads this index.
CREATE INDEX memories_ts ON memories (ts);
