"""Hash-chained audit log of every write to regulated data."""
