"""Scenarios: synthetic demand, simulated service days, batches and their reports."""
