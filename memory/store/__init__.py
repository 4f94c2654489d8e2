"""The SQLite system of record: schema, migrations, observations and the six memory types."""

from memory.store.records import MEMORY_TYPES, Memory, NewObservation, Observation
from memory.store.store import MemoryStore

__all__ = ["MEMORY_TYPES", "Memory", "MemoryStore", "NewObservation", "Observation"]
