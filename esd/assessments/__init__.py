"""Planned, sealed sessions and assessments against a standard."""
