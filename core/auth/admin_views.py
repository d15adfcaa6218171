"""Administration pages: accounts (system administrator), roles and grants (security
administrator). Thin views over core.auth.accounts and core.auth.grants."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from core.auth import accounts, grants
from core.auth.forms import AccountForm, GrantForm, ResetPasswordForm, RoleForm
from core.auth.models import Grant, Role, RolePermission, User
from core.auth.passwords import PasswordPolicyError
from core.auth.roles import declared_permissions
from core.auth.scope import region_ids, regions_in_scope, require
from core.auth.service import AuthError, is_locked
from core.i18n import _
from core.org.models import Person, Region
from core.plugins import host
from core.web.forms import SwitchForm, submitted
from core.web.paging import paginate

bp = Blueprint("accounts", __name__, url_prefix="/admin")

USERS = accounts.MANAGE
ROLES = grants.MANAGE


def _regions(perm: str) -> list[Region]:
    return regions_in_scope(current_user, perm)


def _region_choices(perm: str) -> list[tuple[int, str]]:
    return [(r.id, f"{r.name} ({r.code})") for r in _regions(perm)]


def _user_or_404(user_id: int, perm: str) -> User:
    user = accounts.get_user_in_scope(current_user, user_id, perm)
    if user is None:
        abort(404)
    return user


def _grants_by_user(user_ids) -> dict[int, list[Grant]]:
    out: dict[int, list[Grant]] = {}
    if not user_ids:
        return out
    rows = (Grant.select(Grant, Role, Region).join(Role).switch(Grant).join(Region)
            .where(Grant.user.in_(list(user_ids))).order_by(Role.code, Region.code))
    for g_ in rows:
        out.setdefault(g_.user_id, []).append(g_)
    return out


# -- accounts (system administrator) ----------------------------------------------
@bp.route("/users")
@require(USERS)
def users():
    q = request.args.get("q", "").strip()[:64]
    page = paginate(accounts.users_in_scope(current_user, USERS, q),
                    {"username": User.username, "name": Person.name,
                     "created": User.created_at}, "username", target="user-results")
    return render_template("admin/users.html", page=page, q=q, is_locked=is_locked,
                           grants=_grants_by_user([u.id for u in page.items]))


@bp.route("/users/new", methods=["GET", "POST"])
@require(USERS)
def user_new():
    form = AccountForm()
    form.region_id.choices = _region_choices(USERS)
    error, status = None, 200
    if form.validate_on_submit():
        try:
            user = accounts.create_account(
                current_user, username=form.username.data, password=form.password.data,
                name=form.name.data, region_id=form.region_id.data,
                email=(form.email.data or "").strip(), phone=(form.phone.data or "").strip())
        except (AuthError, PasswordPolicyError) as exc:
            error, status = str(exc), 422
        else:
            flash(_("Account %(name)s created. Its owner must change the password at first "
                    "login.", name=user.username), "success")
            return redirect(url_for("accounts.user_detail", user_id=user.id), 303)
    elif request.method == "POST":
        status = 422
    return render_template("admin/users_new.html", form=form, error=error), status


@bp.route("/users/<int:user_id>")
@require(USERS)
def user_detail(user_id: int):
    user = _user_or_404(user_id, USERS)
    return render_template("admin/users_detail.html", user=user, locked=is_locked(user),
                           grants=_grants_by_user([user.id]).get(user.id, []),
                           reset_form=ResetPasswordForm(), error=None,
                           may_activate=accounts.may_change_activation(current_user, user))


def _account_action(user_id: int, action):
    user = _user_or_404(user_id, USERS)
    try:
        action(user)
    except AuthError as exc:
        abort(422, description=str(exc))
    return redirect(url_for("accounts.user_detail", user_id=user.id), 303)


@bp.route("/users/<int:user_id>/disable", methods=["POST"])
@require(USERS)
def user_disable(user_id: int):
    def act(user):
        accounts.set_active(current_user, user, False)
        flash(_("Account %(name)s disabled; its sessions have ended.", name=user.username),
              "success")
    return _account_action(user_id, act)


@bp.route("/users/<int:user_id>/enable", methods=["POST"])
@require(USERS)
def user_enable(user_id: int):
    def act(user):
        accounts.set_active(current_user, user, True)
        flash(_("Account %(name)s enabled.", name=user.username), "success")
    return _account_action(user_id, act)


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
@require(USERS)
def user_unlock(user_id: int):
    def act(user):
        accounts.unlock(current_user, user)
        flash(_("Account %(name)s unlocked.", name=user.username), "success")
    return _account_action(user_id, act)


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@require(USERS)
def user_reset_password(user_id: int):
    user = _user_or_404(user_id, USERS)
    form = ResetPasswordForm()
    error = None
    if form.validate_on_submit():
        try:
            accounts.reset_password(current_user, user, form.password.data)
        except (AuthError, PasswordPolicyError) as exc:
            error = str(exc)
        else:
            flash(_("Password of %(name)s reset: it must be changed at the next login.",
                    name=user.username), "success")
            return redirect(url_for("accounts.user_detail", user_id=user.id), 303)
    return render_template("admin/users_detail.html", user=user, locked=is_locked(user),
                           grants=_grants_by_user([user.id]).get(user.id, []),
                           reset_form=form, error=error,
                           may_activate=accounts.may_change_activation(current_user, user)), 422


# -- roles (security administrator) -----------------------------------------------
def _permission_choices() -> list[tuple[str, str]]:
    known = declared_permissions(host())
    return [(code, f"{label} ({code})") for code, label in sorted(known.items())]


@bp.route("/roles")
@require(ROLES)
def roles():
    known = declared_permissions(host())
    rows = list(Role.select().order_by(Role.builtin.desc(), Role.code))
    perms: dict[int, list[str]] = {}
    for rid, perm in RolePermission.select(RolePermission.role, RolePermission.permission) \
            .order_by(RolePermission.permission).tuples():
        perms.setdefault(rid, []).append(perm)
    return render_template("admin/roles.html", roles=rows, perms=perms, known=known,
                           may_edit=grants.may_edit_roles(current_user))


def _role_form(role: Role | None) -> RoleForm:
    if role is not None and request.method == "GET":
        form = RoleForm(data={"code": role.code, "label": role.label,
                              "permissions": sorted(grants.role_permissions(role.id))})
    else:
        form = RoleForm()
    form.permissions.choices = _permission_choices()
    return form


@bp.route("/roles/new", methods=["GET", "POST"])
@require(ROLES, city_wide=True)
def role_new():
    form = _role_form(None)
    error, status = None, 200
    if form.validate_on_submit():
        try:
            role = grants.create_role(current_user, form.code.data, form.label.data,
                                      form.permissions.data or [], declared_permissions(host()))
        except grants.GrantError as exc:
            error, status = str(exc), 422
        else:
            flash(_("Role %(code)s created.", code=role.code), "success")
            return redirect(url_for("accounts.roles"), 303)
    elif request.method == "POST":
        status = 422
    return render_template("admin/role_edit.html", form=form, role=None, error=error), status


@bp.route("/roles/<int:role_id>", methods=["GET", "POST"])
@require(ROLES, city_wide=True)
def role_edit(role_id: int):
    role = Role.get_or_none(Role.id == role_id)
    if role is None:
        abort(404)
    form = _role_form(role)
    form.code.data = role.code
    error, status = None, 200
    if form.validate_on_submit():
        try:
            grants.update_role(current_user, role, form.label.data, form.permissions.data or [],
                               declared_permissions(host()))
        except grants.GrantError as exc:
            error, status = str(exc), 422
        else:
            flash(_("Role %(code)s saved.", code=role.code), "success")
            return redirect(url_for("accounts.roles"), 303)
    elif request.method == "POST":
        status = 422
    return render_template("admin/role_edit.html", form=form, role=role, error=error), status


# -- grants (security administrator) ----------------------------------------------
@bp.route("/grants")
@require(ROLES)
def grant_users():
    q = request.args.get("q", "").strip()[:64]
    page = paginate(accounts.users_in_scope(current_user, ROLES, q),
                    {"username": User.username, "name": Person.name}, "username",
                    target="grant-results")
    return render_template("admin/grants.html", page=page, q=q,
                           grants=_grants_by_user([u.id for u in page.items]))


def _grant_form() -> GrantForm:
    form = GrantForm()
    form.role_id.choices = [(r.id, f"{r.label} ({r.code})")
                            for r in Role.select().order_by(Role.code)]
    form.region_id.choices = _region_choices(ROLES)
    return form


def _render_user_grants(user: User, form: GrantForm, error=None, status=200):
    return render_template("admin/grants_user.html", user=user, form=form, error=error,
                           grants=_grants_by_user([user.id]).get(user.id, []),
                           own=user.id == current_user.id,
                           administrator=bool(accounts.admin_jobs(user)),
                           may_activate=user.id != current_user.id
                           and accounts.may_change_activation(current_user, user)), status


@bp.route("/grants/<int:user_id>", methods=["GET", "POST"])
@require(ROLES)
def user_grants(user_id: int):
    user = _user_or_404(user_id, ROLES)
    form = _grant_form()
    if request.method == "GET":
        return _render_user_grants(user, form)
    if not form.validate_on_submit():
        return _render_user_grants(user, form, status=422)
    try:
        grants.grant(current_user, user, Role.get_by_id(form.role_id.data),
                     Region.get_by_id(form.region_id.data))
    except grants.GrantError as exc:
        return _render_user_grants(user, form, error=str(exc), status=422)
    flash(_("Role granted."), "success")
    return redirect(url_for("accounts.user_grants", user_id=user.id), 303)


@bp.route("/grants/<int:user_id>/active", methods=["POST"])
@require(ROLES)
def administrator_active(user_id: int):
    """The security administrator disables or enables an administrator's account
    (三员分立: not the system administrator's to do)."""
    user = _user_or_404(user_id, ROLES)
    state = submitted(SwitchForm(), "state").state.data
    try:
        accounts.set_active(current_user, user, state == "on")
    except AuthError as exc:
        return _render_user_grants(user, _grant_form(), error=str(exc), status=422)
    flash(_("Account %(name)s enabled.", name=user.username) if state == "on" else
          _("Account %(name)s disabled; its sessions have ended.", name=user.username),
          "success")
    return redirect(url_for("accounts.user_grants", user_id=user.id), 303)


@bp.route("/grants/<int:user_id>/<int:grant_id>/revoke", methods=["POST"])
@require(ROLES)
def revoke_grant(user_id: int, grant_id: int):
    user = _user_or_404(user_id, ROLES)
    row = Grant.get_or_none((Grant.id == grant_id) & (Grant.user == user.id))
    if row is None or row.region_id not in region_ids(current_user, ROLES):
        abort(404)
    try:
        grants.revoke(current_user, row)
    except grants.GrantError as exc:
        return _render_user_grants(user, _grant_form(), error=str(exc), status=422)
    flash(_("Grant revoked."), "success")
    return redirect(url_for("accounts.user_grants", user_id=user.id), 303)
