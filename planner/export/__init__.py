"""Exports: GTFS-Flex feeds, day plans, and CSV that is safe to open in a spreadsheet."""
