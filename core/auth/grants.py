"""Roles and grants (角色与授权) administered by the security administrator.

Rules of the separation of the three administrators (三员分立): the system administrator
manages accounts, the security administrator roles and grants, the audit administrator
reads the audit trail; no role and no account combines two of these jobs; nobody grants
themselves anything, changes their own grants, or edits a role they hold; a grant's
region lies within the granter's scope.
"""
from __future__ import annotations

import re

from core.audit.service import record
from core.auth.accounts import get_user_in_scope
from core.auth.kinds import is_staff
from core.auth.models import Grant, Role, RolePermission, User
from core.auth.scope import grants_of, region_ids, region_tree
from core.auth.service import ADMIN_JOBS
from core.db import db
from core.i18n import _
from core.org.models import Region

MANAGE = "core.roles.manage"

ROLE_CODE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")


class GrantError(ValueError):
    """A refused role or grant change; the message is shown to the administrator."""


def jobs_of_permissions(perms) -> set[str]:
    """The administrator jobs a set of permissions amounts to."""
    return {ADMIN_JOBS[p] for p in perms if p in ADMIN_JOBS}


def role_permissions(role_id: int) -> set[str]:
    return {p for (p,) in RolePermission.select(RolePermission.permission)
            .where(RolePermission.role == role_id).tuples()}


def _user_jobs(user_id: int, *, extra_role: int | None = None,
               replace: tuple[int, set[str]] | None = None) -> set[str]:
    """Administrator jobs the user holds, counting ``extra_role`` as granted and reading
    the permissions of role ``replace[0]`` as ``replace[1]``."""
    role_ids = {r for (r,) in Grant.select(Grant.role).where(Grant.user == user_id).tuples()}
    if extra_role is not None:
        role_ids.add(extra_role)
    jobs: set[str] = set()
    for rid in role_ids:
        perms = replace[1] if replace and replace[0] == rid else role_permissions(rid)
        jobs |= jobs_of_permissions(perms)
    return jobs


def _too_many_jobs(jobs: set[str]) -> str:
    labels = {"sys_admin": _("system administrator"), "security_admin": _(
        "security administrator"), "audit_admin": _("audit administrator")}
    return _("No account may hold the jobs of two administrators (%(jobs)s): the system, "
             "security and audit administrators must be different people.",
             jobs=", ".join(str(labels[j]) for j in sorted(jobs)))


def _check_permissions(perms: set[str], known: dict) -> None:
    unknown = sorted(p for p in perms if p not in known)
    if unknown:
        raise GrantError(_("permissions: unknown %(codes)s.", codes=", ".join(unknown)))
    jobs = jobs_of_permissions(perms)
    if len(jobs) > 1:
        raise GrantError(_too_many_jobs(jobs))


def may_edit_roles(actor) -> bool:
    """Roles hold for the whole deployment: only a security administrator whose grant
    covers a top region creates or edits them."""
    roots = set(region_tree().get(None, []))
    return any(MANAGE in perms and rid in roots for _r, rid, perms in grants_of(actor))


def _check_role_editor(actor) -> None:
    if not may_edit_roles(actor):
        raise GrantError(_("Roles hold for the whole deployment: only a security "
                           "administrator of the top region may create or edit them."))


def create_role(actor, code: str, label: str, perms, known: dict) -> Role:
    """A custom role: a named set of declared permissions."""
    _check_role_editor(actor)
    code = (code or "").strip()
    label = (label or "").strip()
    if not ROLE_CODE.match(code):
        raise GrantError(_("code: 2–64 lower-case letters, digits or _, starting with a "
                           "letter."))
    if not label or len(label) > 100:
        raise GrantError(_("label: 1–100 characters."))
    perms = set(perms)
    _check_permissions(perms, known)
    with db.atomic():
        if Role.select().where(Role.code == code).exists():
            raise GrantError(_("code: the role %(code)s exists.", code=code))
        role = Role.create(code=code, label=label, builtin=False)
        if perms:
            RolePermission.insert_many([{"role": role.id, "permission": p}
                                        for p in sorted(perms)]).execute()
        record("role.create", object_type="role", object_id=role.id, user=actor,
               summary=f"create role {code}",
               changes={"code": [None, code], "permissions": [None, sorted(perms)]})
    return role


def update_role(actor, role: Role, label: str, perms, known: dict) -> Role:
    """Change a custom role's label and permissions (never of a role the actor holds)."""
    _check_role_editor(actor)
    if role.builtin:
        raise GrantError(_("Built-in roles are declared by the core and the plugins: create "
                           "a custom role instead."))
    label = (label or "").strip()
    if not label or len(label) > 100:
        raise GrantError(_("label: 1–100 characters."))
    perms = set(perms)
    _check_permissions(perms, known)
    if Grant.select().where((Grant.user == actor.id) & (Grant.role == role.id)).exists():
        raise GrantError(_("You hold this role: you cannot change its permissions."))
    holders = {u for (u,) in Grant.select(Grant.user).where(Grant.role == role.id).tuples()}
    for uid in sorted(holders):
        jobs = _user_jobs(uid, replace=(role.id, perms))
        if len(jobs) > 1:
            name = User.get_by_id(uid).username
            raise GrantError(_("%(user)s holds this role: ", user=name) + _too_many_jobs(jobs))
    old = role_permissions(role.id)
    with db.atomic():
        Role.update(label=label).where(Role.id == role.id).execute()
        gone, new = old - perms, perms - old
        if gone:
            RolePermission.delete().where((RolePermission.role == role.id)
                                          & RolePermission.permission.in_(sorted(gone))).execute()
        if new:
            RolePermission.insert_many([{"role": role.id, "permission": p}
                                        for p in sorted(new)]).execute()
        record("role.update", object_type="role", object_id=role.id, user=actor,
               summary=f"update role {role.code}: +{sorted(new)} -{sorted(gone)}",
               changes={"label": [role.label, label] if role.label != label else None,
                        "permissions": [sorted(old), sorted(perms)]})
    return Role.get_by_id(role.id)


def grant(actor, user: User, role: Role, region: Region) -> Grant:
    """Grant ``role`` in ``region`` to ``user``."""
    if actor.id == user.id:
        raise GrantError(_("You cannot grant yourself a role or change your own grants."))
    if not is_staff(user):
        raise GrantError(_("user: %(name)s is not a staff account; roles are for staff.",
                           name=user.username))
    if get_user_in_scope(actor, user.id, MANAGE) is None:
        raise GrantError(_("user: not within your scope."))
    if region.id not in region_ids(actor, MANAGE):
        raise GrantError(_("region: not within your scope."))
    jobs = _user_jobs(user.id, extra_role=role.id)
    if len(jobs) > 1:
        raise GrantError(_too_many_jobs(jobs))
    with db.atomic():
        if Grant.select().where((Grant.user == user.id) & (Grant.role == role.id)
                                & (Grant.region == region.id)).exists():
            raise GrantError(_("%(user)s already holds %(role)s in %(region)s.",
                               user=user.username, role=role.label, region=region.name))
        row = Grant.create(user=user, role=role, region=region, granted_by=actor.username)
        record("grant.create", object_type="user", object_id=user.id, user=actor,
               region_id=region.id,
               summary=f"grant {role.code} in {region.code} to {user.username}",
               changes={"grant": [None, f"{role.code}@{region.code}"]})
    return row


def revoke(actor, row: Grant) -> None:
    """Revoke one grant (not one's own, and only within the actor's scope)."""
    if actor.id == row.user_id:
        raise GrantError(_("You cannot grant yourself a role or change your own grants."))
    if row.region_id not in region_ids(actor, MANAGE):
        raise GrantError(_("region: not within your scope."))
    with db.atomic():
        Grant.delete().where(Grant.id == row.id).execute()
        record("grant.revoke", object_type="user", object_id=row.user_id, user=actor,
               region_id=row.region_id,
               summary=f"revoke {row.role.code} in {row.region.code} from {row.user.username}",
               changes={"grant": [f"{row.role.code}@{row.region.code}", None]})
