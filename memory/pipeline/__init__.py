"""The capture-to-index pipeline: inbox, indexing, recorder, retention and stored frame files."""
