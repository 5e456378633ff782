"""The enterprise registry: enterprises, permits, outlets and their pollutant limits."""
