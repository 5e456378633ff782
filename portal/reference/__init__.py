"""Reference tables: GB/T 2260 regions, GB/T 4754 industries, HJ 212 pollutant codes."""
