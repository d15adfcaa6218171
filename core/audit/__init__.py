"""Tamper-evident audit trail: events recorded in the writer's transaction."""
