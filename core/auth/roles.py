"""Built-in roles and the permission registry, both declared through hooks."""
from __future__ import annotations

from core.auth.models import Role, RolePermission
from core.db import db


def declared_permissions(host) -> dict[str, object]:
    """code -> label of every permission declared by the core and enabled plugins."""
    out: dict[str, object] = {}
    for code, label in host.collect("ql_permissions"):
        out[code] = label
    return out


def declared_roles(host) -> dict[str, dict]:
    """Built-in roles, with the permissions several plugins give the same code merged."""
    roles: dict[str, dict] = {}
    for role in host.collect("ql_roles"):
        entry = roles.setdefault(role["code"], {"code": role["code"], "label": role["label"],
                                                "permissions": set()})
        entry["permissions"].update(role.get("permissions", ()))
    return roles


def sync_builtin_roles(host) -> None:
    """Create the built-in roles and add any permission a plugin newly declares for them.

    Permissions a security administrator removed from a built-in role stay removed only
    until the next sync if a plugin still declares them: built-in roles are the
    plugins' contract; custom roles are the administrator's."""
    known = declared_permissions(host)
    with db.atomic():
        for code, spec in declared_roles(host).items():
            role, _ = Role.get_or_create(code=code, defaults={"label": str(spec["label"]),
                                                              "builtin": True})
            if not role.builtin:
                Role.update(builtin=True).where(Role.id == role.id).execute()
            have = {p for (p,) in RolePermission.select(RolePermission.permission)
                    .where(RolePermission.role == role).tuples()}
            rows = [{"role": role.id, "permission": p}
                    for p in sorted(spec["permissions"] - have) if p in known]
            if rows:
                RolePermission.insert_many(rows).execute()
