"""The application factory. Nothing happens at import time."""
from __future__ import annotations

import datetime as dt
import logging
import time

from flask import (
    Flask,
    abort,
    current_app,
    g,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from htmx_flask import Htmx
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from core import db as dbmod
from core import i18n, queue
from core.errors import AccessDenied, FieldError
from core.parse import ID_MAX
from core.plugins import PluginHost, host, switched_off_for
from core.ratelimit import RateLimited
from core.settings import ROOT, Settings

log = logging.getLogger("qinglian")

csrf = CSRFProtect()
login_manager = LoginManager()

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
       "form-action 'self'; object-src 'none'")


def create_app(settings: Settings | None = None, *, available_plugins: dict | None = None,
               extra_core=()) -> Flask:
    """Build the app: settings, database, queue, plugins, blueprints, security headers."""
    settings = settings or Settings.from_env()
    app = Flask("qinglian", root_path=str(ROOT), template_folder="templates",
                static_folder="static", instance_path=str(settings.instance_path.resolve()))
    app.config.update(
        QL_SETTINGS=settings,
        SECRET_KEY=settings.secret(),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_COOKIE_NAME="ql_session",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=12),
        REMEMBER_COOKIE_DURATION=dt.timedelta(seconds=0),
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=settings.secure_cookies,
        MAX_CONTENT_LENGTH=32 * 1024 * 1024,
        SEND_FILE_MAX_AGE_DEFAULT=dt.timedelta(days=7),
    )
    if settings.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies,
                                x_proto=settings.trusted_proxies)
    from core.web.shared_cache import SessionInterface
    app.session_interface = SessionInterface()
    dbmod.init_db(settings.database_url)
    dbmod.init_app(app)
    queue.configure(app, settings.queue_url)

    plugin_host = PluginHost(settings.plugins, available=available_plugins
                             if available_plugins is not None
                             else (None if settings.discover_plugins else {}),
                             extra_core=extra_core)
    app.extensions["qinglian.plugins"] = plugin_host

    i18n.init_app(app, extra_dirs=[d for d in _translation_dirs(plugin_host)])
    Htmx(app)
    app.url_map.converters["int"] = BoundedIntConverter
    _isolate_request_globals(app)
    csrf.init_app(app)
    _init_login(app, settings)
    _register_blueprints(app, plugin_host)
    _init_request_hooks(app)
    _init_errors(app)
    _init_templates(app)
    from core import cli
    cli.init_app(app)
    return app


class BoundedIntConverter(IntegerConverter):
    """``<int:id>`` limited to ASCII digits and the primary-key range: a 30-digit or an
    Arabic-Indic id in a URL is no route (404), never an overflow in the database."""

    regex = r"[0-9]{1,10}"

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", ID_MAX)
        super().__init__(map, *args, **kwargs)


def _translation_dirs(plugin_host):
    import importlib
    from pathlib import Path
    out = []
    for rec in plugin_host.records.values():
        if not rec.enabled:
            continue
        mod = importlib.import_module(rec.module.split(":")[0])
        if getattr(mod, "__file__", None) is None:  # built in memory: no catalogue
            continue
        path = Path(mod.__file__).parent / "translations"
        if path.is_dir():
            out.append(path)
    return out


def _isolate_request_globals(app):
    """Drop what a request put in ``g`` when it ends.

    In production every request has its own app context; a test that holds one app
    context across requests must not see the previous request's CSRF token or caches."""
    @app.before_request
    def _snapshot():
        g._ql_keys_before = set(g)

    @app.teardown_request
    def _restore(exc):
        before = g.get("_ql_keys_before")
        if before is not None:
            for key in set(g) - before:
                g.pop(key, None)


def _init_login(app, settings):
    from core.auth.service import load_session
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = None  # the server-side session is the protection

    @login_manager.user_loader
    def load(sid):
        return load_session(sid, settings.session_idle_minutes,
                            settings.session_absolute_hours)

    @login_manager.unauthorized_handler
    def unauthorized():
        from flask import make_response, redirect
        target = url_for("auth.login", next=request.full_path.rstrip("?"))
        if request.headers.get("HX-Request") == "true":
            resp = make_response("", 401)
            resp.headers["HX-Redirect"] = target
            return resp
        return redirect(target)


def _register_blueprints(app, plugin_host):
    owners = app.extensions["qinglian.blueprint_owner"] = {}
    for plugin, blueprints in plugin_host.each("ql_blueprints"):
        for bp in blueprints:
            app.register_blueprint(bp)
            if plugin_host.is_plugin(plugin):
                owners[bp.name] = plugin


def _plugin_gate():
    """A plugin switched off for the user's region answers 404 on all its routes."""
    region = getattr(g, "ql_region", None)
    if region is None or not request.blueprints:
        return
    plugin = current_app.extensions["qinglian.blueprint_owner"].get(request.blueprints[-1])
    if plugin is not None and plugin in switched_off_for(region):
        abort(404)


def _init_request_hooks(app):
    from core.auth.kinds import gate
    from core.auth.scope import acting_region, roles

    @app.before_request
    def _refuse_nul():
        """A NUL character in a query or form value is never text (PostgreSQL cannot even
        compare it): every route refuses it, naming the field, before a view reads it."""
        if "\x00" in request.path:
            abort(404)  # no route or record is named with NUL
        sources = [request.args]
        if request.mimetype in FORM_TYPES:
            sources.append(request.form)
        for source in sources:
            for key, value in source.items(multi=True):
                if "\x00" in key or "\x00" in value:
                    from core.i18n import _
                    raise FieldError(key.replace("\x00", "") or "?",
                                     _("Control characters are not allowed."))

    @app.before_request
    def _context():
        from flask_babel import refresh
        refresh()  # the locale is chosen per request (tests may share an app context)
        g.ql_user = current_user if current_user.is_authenticated else None
        g.ql_region = acting_region(current_user) if g.ql_user else None
        g.ql_roles = roles(current_user) if g.ql_user else set()
        if g.ql_user is not None:
            gate(g.ql_user)
        if (g.ql_user is not None and current_user.must_change_password
                and request.endpoint not in ("auth.password", "auth.logout", "static",
                                             "auth.set_locale")):
            from flask import redirect
            return redirect(url_for("auth.password"))
        _plugin_gate()
        return None

    @app.after_request
    def _headers(resp):
        h = resp.headers
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("Permissions-Policy", "geolocation=(), camera=(), microphone=()")
        if app.config["SESSION_COOKIE_SECURE"]:
            h.setdefault("Strict-Transport-Security", "max-age=31536000")
        if request.endpoint != "static" and getattr(g, "ql_user", None) is not None:
            h["Cache-Control"] = "no-store"
        if request.headers.get("HX-Request"):
            h.add("Vary", "HX-Request")
        return resp


def _init_errors(app):
    @app.errorhandler(FieldError)
    def field_error(exc: FieldError):
        return _error(exc.status, exc.message, field=exc.field, error=exc)

    @app.errorhandler(AccessDenied)
    def access_denied(exc: AccessDenied):
        return _error(403, exc.message)

    @app.errorhandler(RateLimited)
    def rate_limited(exc: RateLimited):
        resp = _error(429, exc.message)
        resp = app.make_response(resp)
        resp.headers["Retry-After"] = str(exc.retry_after)
        return resp

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        from core.i18n import _
        return _error(400, _("The form expired or did not come from this site. "
                             "Reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(exc):
        return _error(exc.code or 500, exc.description if exc.code in (400, 422, 429)
                      else None)

    @app.errorhandler(Exception)
    def server_error(exc):
        log.exception("unhandled error")
        return _error(500, None)


def _wants_json() -> bool:
    return (request.path.startswith("/api/") or request.is_json
            or request.accept_mimetypes.best == "application/json")


def _error(code, message, *, field: str | None = None, error: FieldError | None = None):
    from core.i18n import _
    titles = {400: _("Bad request"), 403: _("Not allowed"), 404: _("Not found"),
              405: _("Method not allowed"), 413: _("Too large"), 422: _("Cannot process"),
              429: _("Too many requests"), 500: _("Something went wrong")}
    texts = {403: _("Your role does not include this page."),
             404: _("There is no such page, or it is not within your scope."),
             500: _("The error was logged. Please try again later.")}
    body = message or texts.get(code, "")
    if _wants_json():
        from flask import jsonify
        if error is not None:
            return jsonify(error.body()), code
        return jsonify(error=titles.get(code, str(code)), message=str(body)), code
    template = ("errors/_fragment.html" if request.headers.get("HX-Request") == "true"
                else "errors/error.html")
    return render_template(template, code=code, title=titles.get(code, code), message=body,
                           field=field), code


def _init_templates(app):
    from core.auth.kinds import is_staff
    from core.auth.scope import has_permission
    from core.i18n import html_lang

    @app.template_filter("localtime")
    def localtime(value, pattern: str = "yyyy-MM-dd HH:mm"):
        """A stored (naive UTC) time shown in QL_TIMEZONE."""
        from flask_babel import format_datetime
        return format_datetime(value, pattern) if value else ""

    fixed_urls: dict[tuple, str] = {}
    signed_tokens: dict[tuple, str] = {}

    def csrf_token() -> str:
        """The signed CSRF token for the session's raw token (Flask-WTF's
        ``generate_csrf``), signed once per process and session token rather than on every
        page: signing costs more than the rest of a small page's chrome. A token signed
        earlier stays valid — tokens carry no time limit (WTF_CSRF_TIME_LIMIT=None)."""
        from flask_wtf.csrf import generate_csrf

        from core.web.shared_cache import shared_page
        if shared_page():
            raise RuntimeError("a page a shared cache keeps carries no per-session CSRF "
                               "token: mark its forms data-csrf-fetch")
        field = app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
        raw = session.get(field)
        if not raw:
            return generate_csrf()
        key = (app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key, raw)
        signed = signed_tokens.get(key)
        if signed is None:
            signed = generate_csrf()
            if len(signed_tokens) >= 50_000:
                signed_tokens.clear()
            signed_tokens[key] = signed
        return signed

    @app.template_global()
    def static_url(filename: str) -> str:
        """``url_for('static', filename=…)``, built once per process and mount point:
        every page asks for the same four or five files."""
        return fixed_url("static", filename=filename)

    @app.template_global()
    def fixed_url(endpoint: str, **values) -> str:
        """``url_for`` for a URL that depends only on its arguments (the layout's links:
        portal, login, language switch, static files), built once per process and mount
        point instead of on every page."""
        key = (request.script_root, endpoint, *sorted(values.items()))
        url = fixed_urls.get(key)
        if url is None:
            url = fixed_urls[key] = url_for(endpoint, **values)
        return url

    app.jinja_env.globals["csrf_token"] = csrf_token
    from core.web.shared_cache import shared_page
    app.jinja_env.globals["shared_page"] = shared_page

    @app.context_processor
    def _shell():
        def nav():
            user = getattr(g, "ql_user", None)
            if not is_staff(user):
                return []
            items = host().collect("ql_nav_items", region=g.get("ql_region"), user=user)
            visible = [i for i in items
                       if not i.get("permission") or has_permission(user, i["permission"])]
            visible = sorted(visible, key=lambda i: (i.get("order", 50), str(i["label"])))
            return _mark_active(visible)

        def region_choices():
            user = getattr(g, "ql_user", None)
            if user is None:
                return []
            from core.auth.scope import regions_in_scope
            regions = regions_in_scope(user)
            return regions if len(regions) > 1 else []

        def calendar_notice():
            """Provisional years an administrator of the calendar should hear of."""
            user = getattr(g, "ql_user", None)
            if not is_staff(user) or not has_permission(user, "core.settings.manage"):
                return []
            from core import calendar, clock
            return calendar.provisional_years(clock.today())

        return {
            "calendar_notice": calendar_notice,
            "nav_items": nav,
            "region_choices": region_choices,
            "html_lang": html_lang,
            "current_region": getattr(g, "ql_region", None),
            "demo_mode": _demo_mode(),
            "has_permission": lambda p: has_permission(getattr(g, "ql_user", None), p),
            "staff_account": is_staff(getattr(g, "ql_user", None)),
            "session_locale": session.get("locale"),
            "csrf_token": csrf_token,  # replaces Flask-WTF's (its context processor ran first)
        }


def _mark_active(items: list[dict]) -> list[dict]:
    """The entry for the current page: its exact endpoint, else the first entry of the
    current blueprint (so a detail page highlights its list)."""
    items = [dict(i, active=False) for i in items]
    exact = [i for i in items if i["endpoint"] == request.endpoint]
    if exact:
        exact[0]["active"] = True
    elif request.blueprint:
        same = [i for i in items if i["endpoint"].split(".")[0] == request.blueprint]
        if same:
            same[0]["active"] = True
    return items


DEMO_CHECK_SECONDS = 30.0


def _demo_mode() -> bool:
    """Whether this deployment holds demo accounts (it then shows the demo banner).

    Asked of the database at most every DEMO_CHECK_SECONDS per process rather than on
    every page: seeding demo data is rare, and public pages are hot."""
    state = current_app.extensions.setdefault("qinglian.demo_mode", [0.0, False])
    now = time.monotonic()
    if now >= state[0]:
        from core.auth.models import User
        try:
            state[1] = User.select().where(User.is_demo == True).exists()
        except Exception:  # noqa: BLE001 - schema not created yet
            state[1] = False
            return False
        state[0] = now + DEMO_CHECK_SECONDS
    return state[1]
