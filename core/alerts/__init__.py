"""Alert bus: alerts, escalation and notifications that are never lost."""
