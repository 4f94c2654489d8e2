"""Engram's local HTTP API and the operations it shares with the MCP server (#14)."""
