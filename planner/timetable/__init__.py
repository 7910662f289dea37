"""Scheduled lines: connections, and the rule that a line goes before the on-demand bus."""
