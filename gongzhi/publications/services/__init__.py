"""Writes of the publishing core (`core`) and of each kind that needs its own (boards, alerts, meetings …)."""
