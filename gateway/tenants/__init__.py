"""Subscriptions made at run time through the admin API: their records, where they are kept
(Redis for a fleet, a file for one process), the index a serving process looks keys up in, and
the audit log of every change."""
