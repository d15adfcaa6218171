"""Hooks of the alert bus."""
