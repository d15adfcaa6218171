"""The plugin contract: every hook Qinglian calls, with a docstring and an example.

A plugin is a module (or object) with functions named after these hooks, each decorated
with ``core.hookimpl``. An implementation may accept any subset of the arguments listed
here, so hooks can grow without breaking plugins. The core's own parts register through
the same hooks. ``docs/plugin_hooks.md`` documents each hook; a test fails if one is
missing there.
"""
from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("qinglian")
hookimpl = pluggy.HookimplMarker("qinglian")


@hookspec
def ql_plugin_info():
    """Describe the plugin: ``{"name", "label", "version", "description"}``.

    ``label`` and ``description`` are lazy-translated strings. Called once at load.

    Example::

        @hookimpl
        def ql_plugin_info():
            return {"name": "eservice", "label": _l("Service hall"), "version": "1.0",
                    "description": _l("Power catalogue, cases and public lookup")}
    """


@hookspec
def ql_migrations():
    """Return ``(component, directory)`` of this plugin's migration chain, or None.

    Each chain is applied by ``db upgrade`` and recorded in its own history table
    ``migrations_<component>``.
    """


@hookspec
def ql_models():
    """Return the plugin's peewee model classes (used by tests and the drift check)."""


@hookspec
def ql_blueprints():
    """Return Flask blueprints to register: staff pages and public pages.

    A blueprint whose name starts with ``public_`` serves citizens without login. All
    routes of a plugin that is switched off for the user's region answer 404.
    """


@hookspec
def ql_permissions():
    """Return ``[(code, label), ...]`` — permission codes this plugin declares.

    Example: ``[("eservice.case.accept", _l("Accept cases"))]``.
    """


@hookspec
def ql_roles():
    """Return ``[{"code", "label", "permissions": [...]}]`` — built-in roles.

    Permissions of the same role code declared by several plugins are merged, so a plugin
    may add its permissions to a core role (e.g. ``supervisor``).
    """


@hookspec
def ql_nav_items(user, region):
    """Return menu entries the user may see: ``[{"label", "endpoint", "icon", "order"}]``.

    ``region`` is the region the user is acting in; only plugins enabled for it are asked.
    An entry may carry ``"permission"``: it is shown only to users holding it.
    """


@hookspec
def ql_dashboard_widgets(user, region):
    """Return dashboard widgets: ``[{"title", "url" | "render", "order", "permission"}]``.

    ``url`` is loaded lazily by HTMX; ``render`` is a callable returning safe HTML.
    """


@hookspec
def ql_public_links():
    """Return links for the public portal: ``[{"label", "endpoint", "description"}]``."""


@hookspec
def ql_alert_kinds():
    """Return alert kinds: ``[{"code", "label", "level", "escalate_after_hours"}]``.

    ``level`` is one of ``reminder``, ``yellow``, ``red``. An optional ``"channels"``
    lists channel codes alerts of the kind always use, whatever the user's preferences
    (where the user can be reached on them).
    Optional: ``subject``, a callable ``(details: dict) -> str`` wording an alert of the
    kind from its details in the reader's language (pages, e-mail and SMS use it; the
    stored subject otherwise), and ``link``, a callable ``(ref: str) -> url | None`` to
    the page of the matter.
    """


@hookspec
def ql_alert_channels():
    """Return delivery channels: ``[channel objects]`` with ``code``, ``label`` and
    ``send(notification, recipient) -> None`` (raise ``PermanentFailure`` or
    ``TemporaryFailure``). The core ships inbox, email, sms and webhook.
    """


@hookspec
def ql_periodic_tasks(huey):
    """Register periodic jobs on ``huey`` at worker start.

    Use ``core.api.periodic(crontab, name=…, label=…)``: the job runs under a lease, so two
    workers never run it at once and a killed worker holds it up only until the lease
    runs out. A job that works per region asks
    ``core.api.regions_enabled(plugin)`` which regions it may touch.
    """


@hookspec
def ql_handle_event(name, payload):
    """Receive a core event published with ``core.events.publish(name, payload)``.

    Called in the publisher's transaction; raise to abort it. ``payload`` is a plain
    JSON-serialisable dict that carries everything a subscriber needs.

    Events published today (payload shapes in ``docs/events.md``):

    * ``eservice`` — case (办件) events ``eservice.case.submitted``, ``.accepted``,
      ``.not_accepted``, ``.supplement_requested``, ``.supplement_received``,
      ``.step_started``, ``.step_completed``, ``.suspended``, ``.resumed``, ``.decided``,
      ``.delivered``, ``.closed``, ``.fee_charged``, ``.evaluated``.
    """


@hookspec
def ql_demo_data(size):
    """Seed the plugin's demo data; ``size`` is ``"small"`` or ``"large"``. Idempotent."""


@hookspec
def ql_cli(group):
    """Add click commands to the ``flask`` command group ``group``."""


@hookspec
def ql_account_kinds():
    """Return account kinds other than staff: ``[{"code", "label", "home"}]``.

    An account of such a kind (``core.auth.kinds``) logs in like staff but may use only
    views decorated ``for_accounts(code)``, the public pages and its own account pages;
    ``home`` is the endpoint it lands on after login.

    Example::

        @hookimpl
        def ql_account_kinds():
            return [{"code": "supplier", "label": _l("Supplier"),
                     "home": "procurement_supplier.home"}]
    """


@hookspec
def ql_audit_actions():
    """Return ``{action code: label}`` for the audit events the plugin records, so the
    audit viewer shows a translated label above the code (``_l`` labels)."""


@hookspec
def ql_api_scopes():
    """Return ``[(code, label), ...]`` — scopes of API tokens for machine clients.

    A view taking ``@api_token_required(code)`` answers only requests bearing a token of
    that scope (``issue_api_token(code, subject)``, ``flask --app wsgi tokens issue``).

    Example: ``[("esupervision.ingest", _l("Send case events to e-supervision"))]``.
    """


@hookspec
def ql_hookspecs():
    """Return the module (or class) holding this plugin's own hook specifications.

    A hook that only one plugin calls (extra detectors of e-supervision, red-flag rules of
    procurement) is specified in that plugin's ``hookspecs.py``, not here; the host adds it
    with ``pm.add_hookspecs`` when the plugin loads. Implement such a hook with
    ``@hookimpl(optionalhook=True)`` so your plugin still loads where its caller is off.

    Example::

        @hookimpl
        def ql_hookspecs():
            from plugins.esupervision import hookspecs
            return hookspecs
    """
