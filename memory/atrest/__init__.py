"""Encryption at rest of a home (#12): its key, the lock, and converting a plain home."""
