"""Settings: the one model every face reads, and the file that holds it."""
