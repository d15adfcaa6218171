"""Login, second factor, password change, logout, language and region choice."""
from __future__ import annotations

import time

import pyotp
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from core.auth import service
from core.auth.forms import LocaleForm, LoginForm, PasswordForm, RegionForm, TotpForm
from core.auth.kinds import home_endpoint
from core.auth.models import User
from core.auth.passwords import PasswordPolicyError
from core.auth.scope import region_ids
from core.errors import FieldError
from core.i18n import LOCALES, _
from core.web.redirects import safe_redirect_target

bp = Blueprint("auth", __name__)

PENDING_SECONDS = 300


def _settings():
    return current_app.config["QL_SETTINGS"]


def _safe_next(target: str | None, user=None) -> str:
    return safe_redirect_target(target, "") or url_for(
        home_endpoint(user if user is not None else current_user))


def _fresh_session() -> None:
    """Start a new session (a new id at every login and logout), keeping the language."""
    locale = session.get("locale")
    session.clear()
    if locale in LOCALES:
        session["locale"] = locale


def _finish_login(user: User, second_factor_ok: bool):
    _fresh_session()  # a new session id at every login
    sid = service.start_session(user, request.remote_addr or "",
                                request.user_agent.string or "", second_factor_ok)
    session["_ql_sid"] = sid
    session.permanent = True
    login_user(user)
    if user.locale in LOCALES and "locale" not in session:
        session["locale"] = user.locale
    return sid


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for(home_endpoint(current_user)))
    form = LoginForm()
    error = None
    status = 200
    if form.validate_on_submit():
        try:
            user = service.authenticate(form.username.data, form.password.data, _settings())
        except service.AuthError as exc:
            error = str(exc)
            status = 422
        else:
            nxt = _safe_next(request.args.get("next"), user)
            if service.requires_second_factor(user):
                _fresh_session()
                session["pending_user"] = user.id
                session["pending_at"] = time.time()
                session["pending_next"] = nxt
                return redirect(url_for("auth.totp"), 303)
            _finish_login(user, False)
            if user.must_change_password:
                return redirect(url_for("auth.password"), 303)
            return redirect(nxt, 303)
    elif request.method == "POST":
        status = 422
    return render_template("auth/login.html", form=form, error=error), status


def _pending_user() -> User | None:
    uid = session.get("pending_user")
    if not uid or time.time() - session.get("pending_at", 0) > PENDING_SECONDS:
        return None
    user = User.get_or_none((User.id == uid) & (User.active == True))
    if user is None or service.login_blocked(user.username, _settings(), user):
        return None
    return user


@bp.route("/login/totp", methods=["GET", "POST"])
def totp():
    user = _pending_user()
    if user is None:
        _fresh_session()
        flash(_("Please log in again."), "warning")
        return redirect(url_for("auth.login"))
    enrolling = not user.totp_secret
    if enrolling and "enrol_secret" not in session:
        session["enrol_secret"] = service.new_totp_secret()
    form = TotpForm()
    error = None
    status = 200
    if form.validate_on_submit():
        ok = service.enrol_totp(user, session["enrol_secret"], form.code.data) if enrolling \
            else service.verify_totp(user, form.code.data)
        if ok:
            fresh = User.get_by_id(user.id)
            nxt = session.get("pending_next") or url_for(home_endpoint(fresh))
            _finish_login(fresh, True)
            if fresh.must_change_password:
                return redirect(url_for("auth.password"), 303)
            return redirect(_safe_next(nxt, fresh), 303)
        if service.second_factor_failed(user, _settings()):
            _fresh_session()
            flash(_("This account is locked after too many failed logins."), "error")
            return redirect(url_for("auth.login"), 303)
        error = _("The code is wrong or was already used. Wait for the next code.")
        status = 422
    elif request.method == "POST":
        status = 422
    secret = session.get("enrol_secret") if enrolling else None
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name="Qinglian") \
        if secret else None
    return render_template("auth/totp.html", form=form, error=error, enrolling=enrolling,
                           secret=secret, uri=uri), status


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    error = None
    status = 200
    if form.validate_on_submit():
        try:
            service.change_password(current_user, form.current.data, form.new.data,
                                    keep_sid=session.get("_ql_sid", ""))
        except (service.AuthError, PasswordPolicyError) as exc:
            error = str(exc)
            status = 422
        else:
            flash(_("Your password was changed."), "success")
            return redirect(url_for(home_endpoint(current_user)), 303)
    elif request.method == "POST":
        status = 422
    return render_template("auth/password.html", form=form, error=error), status


@bp.route("/logout", methods=["POST"])
def logout():
    sid = session.get("_ql_sid")
    if sid:
        service.end_session(sid, "logout", user=current_user if current_user.is_authenticated
                            else None)
    logout_user()
    _fresh_session()
    g.ql_user = None  # the request started logged in; it ends logged out
    g.ql_roles = set()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"), 303)


@bp.route("/locale", methods=["POST"])
def set_locale():
    form = LocaleForm()
    if not form.validate():
        raise FieldError("locale", _("Unknown language."), status=400)
    service.set_locale(current_user if current_user.is_authenticated else None,
                       form.locale.data)
    session["locale"] = form.locale.data
    return redirect(_safe_next(form.next.data), 303)


@bp.route("/region", methods=["POST"])
@login_required
def set_region():
    form = RegionForm()
    if not form.validate():
        raise FieldError("region_id", form.region_id.errors[0] if form.region_id.errors
                         else _("Choose a region."), status=400)
    if form.region_id.data not in region_ids(current_user):
        abort(404)
    session["region_id"] = form.region_id.data
    g.pop("_ql_off", None)
    return redirect(_safe_next(form.next.data), 303)
