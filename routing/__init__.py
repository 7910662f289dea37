"""The road network: graphs from OSM or GTFS, travel matrices, stops and timetables."""
