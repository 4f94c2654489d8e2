"""Privacy policies that every path into the store passes: redaction and forget."""
