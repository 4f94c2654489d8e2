"""Search: hybrid BM25 + vector retrieval over memories and observations, time parsing, hits."""
