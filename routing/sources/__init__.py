"""Readers of network sources: OpenStreetMap and GTFS."""
