"""Rufbus planning: the dial-a-ride problem, booking, storage, timetables, scenarios, exports."""
