"""Riders' notifications, opt-in at booking.

``messages`` says what to tell, ``outbox`` queues and delivers, ``channels`` hands messages
to SMTP and the SMS provider, ``worker`` is the background worker's pass.
"""
