"""Running the day: what drivers report, and the live state built from it."""
