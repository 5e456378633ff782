"""Demo data and reference-data loading."""
