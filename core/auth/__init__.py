"""Accounts, roles, region-scoped grants and login."""
