"""The UI shell: home, dashboard, public portal, health, administration, error pages."""
