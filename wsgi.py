"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi …``."""
import sys

from core.app import create_app
from core.plugins import PluginError
from core.settings import SettingsError

try:
    app = create_app()
except (SettingsError, PluginError) as exc:
    print(f"Qinglian cannot start: {exc}", file=sys.stderr)
    sys.exit(2)
