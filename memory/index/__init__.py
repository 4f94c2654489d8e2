"""The vector index: derived data kept in step with SQLite."""
