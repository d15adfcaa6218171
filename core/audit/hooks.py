"""Hooks of the audit trail."""
