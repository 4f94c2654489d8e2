"""`engram mcp`: the Model Context Protocol server (#14)."""
