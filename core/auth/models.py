"""Accounts (用户), roles (角色) and region-scoped grants (授权)."""
from __future__ import annotations

import peewee as pw

from core.db import BaseModel, utcnow
from core.org.models import Person, Region


class User(BaseModel):
    """A login account; belongs to a person."""

    username = pw.CharField(max_length=64, unique=True)
    person = pw.ForeignKeyField(Person, null=True, backref="users", on_delete="SET NULL")
    password_hash = pw.CharField(max_length=255)
    must_change_password = pw.BooleanField(default=True)
    active = pw.BooleanField(default=True)
    failed_logins = pw.IntegerField(default=0)
    locked_until = pw.DateTimeField(null=True)
    totp_secret = pw.CharField(max_length=64, default="")
    totp_last_step = pw.BigIntegerField(default=0)
    locale = pw.CharField(max_length=8, default="")
    email = pw.CharField(max_length=120, default="")
    phone = pw.CharField(max_length=20, default="")
    is_demo = pw.BooleanField(default=False)
    kind = pw.CharField(max_length=16, default="staff")  # core.auth.kinds
    password_changed_at = pw.DateTimeField(null=True)
    created_at = pw.DateTimeField(default=utcnow)

    # flask-login protocol ------------------------------------------------------------
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        from flask import session
        return session.get("_ql_sid", "")

    def __str__(self) -> str:
        return self.username


class Role(BaseModel):
    """A named set of permissions. Built-in roles come from the core and plugins."""

    code = pw.CharField(max_length=64, unique=True)
    label = pw.CharField(max_length=100)
    builtin = pw.BooleanField(default=False)


class RolePermission(BaseModel):
    role = pw.ForeignKeyField(Role, backref="permissions", on_delete="CASCADE")
    permission = pw.CharField(max_length=100)

    class Meta:
        indexes = ((("role", "permission"), True),)


class Grant(BaseModel):
    """User U holds role R in region G (and so in G's descendants)."""

    user = pw.ForeignKeyField(User, backref="grants", on_delete="CASCADE")
    role = pw.ForeignKeyField(Role, backref="grants", on_delete="CASCADE")
    region = pw.ForeignKeyField(Region, backref="grants", on_delete="CASCADE")
    granted_by = pw.CharField(max_length=64, default="")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("user", "role", "region"), True),)


class UserSession(BaseModel):
    """A server-side login session; the cookie holds only its random id."""

    sid = pw.CharField(max_length=64, unique=True)
    user = pw.ForeignKeyField(User, backref="sessions", on_delete="CASCADE")
    created_at = pw.DateTimeField(default=utcnow)
    last_seen = pw.DateTimeField(default=utcnow)
    ended_at = pw.DateTimeField(null=True)
    ip = pw.CharField(max_length=64, default="")
    user_agent = pw.CharField(max_length=255, default="")
    second_factor_ok = pw.BooleanField(default=False)


class ApiToken(BaseModel):
    """A machine client's bearer token (接口令牌) for one scope: only its SHA-256 hash is
    kept, with its last four characters to tell tokens apart (``core.auth.tokens``)."""

    scope = pw.CharField(max_length=64)
    subject = pw.CharField(max_length=64)
    region = pw.ForeignKeyField(Region, null=True, backref="+", on_delete="CASCADE")
    token_hash = pw.CharField(max_length=64, unique=True)
    hint = pw.CharField(max_length=8, default="")
    created_at = pw.DateTimeField(default=utcnow)
    created_by = pw.CharField(max_length=64, default="")
    expires_at = pw.DateTimeField(null=True)
    last_used_at = pw.DateTimeField(null=True)
    revoked_at = pw.DateTimeField(null=True)

    class Meta:
        table_name = "api_token"
        indexes = ((("scope", "subject"), False),)
