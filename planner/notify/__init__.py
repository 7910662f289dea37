"""Riders' notifications: what to say (messages), the outbox (outbox), how it leaves
(channels), and the worker's pass (worker)."""
