"""The gradebook's views, one module per area (grid, locks, corrections, …)."""
