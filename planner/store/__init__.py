"""Persistence: the database models, the store and its migrations."""
