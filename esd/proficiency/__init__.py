"""Every dog side by side: the proficiency matrix, readiness gaps and the suggested next session."""
