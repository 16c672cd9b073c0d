"""Legal-metrology rules over many records: coverage indicators, schedules. Pure functions, no I/O."""
