"""Accounts: creation, login with lockout, second factor (TOTP), server-side sessions."""
from __future__ import annotations

import datetime as dt
import secrets
import time
import unicodedata

import pyotp

from core import ratelimit
from core.audit.service import record
from core.auth.kinds import STAFF, check_kind
from core.auth.models import Grant, Role, RolePermission, User, UserSession
from core.auth.passwords import (
    check_policy,
    hash_password,
    needs_rehash,
    verify_password,
)
from core.db import db, utcnow
from core.errors import FieldError
from core.i18n import LOCALES, _
from core.org.models import Person, Region
from core.parse import clean_text
from core.ratelimit import client_address

ADMIN_ROLES = ("sys_admin", "security_admin", "audit_admin")
# Which administrator's job each permission belongs to (三员分立).
ADMIN_JOBS = {
    "core.users.manage": "sys_admin",
    "core.settings.manage": "sys_admin",
    "core.roles.manage": "security_admin",
    "core.audit.read": "audit_admin",
}


class AuthError(ValueError):
    """A refused account operation; the message is shown to the user."""


def create_user(username: str, password: str, *, role: str | None = None,
                region_code: str | None = None, email: str = "", phone: str = "",
                person: Person | None = None, must_change: bool = True,
                by=None, is_demo: bool = False, kind: str = STAFF) -> User:
    """Create an account (and its first grant). Refuse a weak password or unknown names.

    An account of a kind other than staff (``core.auth.kinds``) belongs to no person of
    the organisation and holds no role."""
    try:  # NFKC (full-width letters typed with an input method), no control characters
        username = clean_text(username or "", "username", max_length=64, nfkc=True)
    except FieldError as exc:
        raise AuthError(exc.message) from None
    if not username or any(c.isspace() for c in username):
        raise AuthError(_("The user name must be 1–64 characters without spaces."))
    try:
        check_kind(kind)
    except ValueError as exc:
        raise AuthError(str(exc)) from None
    if kind != STAFF and (role is not None or region_code is not None or person is not None):
        raise AuthError(_("An account of kind %(kind)s holds no role and belongs to no "
                          "person of the organisation.", kind=kind))
    check_policy(password, username)
    role_row = region = None
    if role is not None:
        role_row = Role.get_or_none(Role.code == role)
        if role_row is None:
            known = ", ".join(r.code for r in Role.select().order_by(Role.code))
            raise AuthError(_("Unknown role %(role)s (known: %(known)s).", role=role,
                              known=known))
    if region_code is not None:
        region = Region.get_or_none(Region.code == region_code)
        if region is None:
            raise AuthError(_("Unknown region code %(code)s.", code=region_code))
    if role_row is not None and region is None:
        raise AuthError(_("A role is granted in a region: give the region code."))
    with db.atomic():
        if User.select().where(User.username == username).exists():
            raise AuthError(_("The user name %(name)s is taken.", name=username))
        if person is None and region is not None:
            person = Person.create(name=username, region=region, email=email, phone=phone)
        user = User.create(username=username, password_hash=hash_password(password),
                           person=person, email=email, phone=phone,
                           must_change_password=must_change, is_demo=is_demo,
                           password_changed_at=utcnow(), kind=kind)
        record("user.create", object_type="user", object_id=user.id,
               summary=f"create user {username}", user=by,
               region_id=person.region_id if person is not None else None,
               changes={"username": [None, username], "email": [None, email],
                        **({"kind": [None, kind]} if kind != STAFF else {})})
        if role_row is not None:
            Grant.create(user=user, role=role_row, region=region,
                         granted_by=getattr(by, "username", "") or "cli")
            record("grant.create", object_type="user", object_id=user.id,
                   summary=f"grant {role} in {region.code} to {username}", user=by,
                   region_id=region.id)
    return user


def create_external_account(username: str, password: str, *, kind: str, email: str = "",
                            phone: str = "", by=None, is_demo: bool = False) -> User:
    """An account of a kind other than staff (a supplier, say), ready to log in: its owner
    chose the password. Raises AuthError for a taken name, a weak password or an unknown
    kind."""
    if kind == STAFF:
        raise AuthError(_("Staff accounts are created by the system administrator."))
    return create_user(username, password, email=email, phone=phone, must_change=False,
                       by=by, is_demo=is_demo, kind=kind)


def user_roles(user: User) -> set[str]:
    return {r for (r,) in Role.select(Role.code).join(Grant)
            .where(Grant.user == user.id).tuples()}


def requires_second_factor(user: User) -> bool:
    """Administrators (by role, or by a custom role carrying an administrator's
    permission) must use TOTP; anyone who enrolled uses it too."""
    if user.totp_secret or user_roles(user) & set(ADMIN_ROLES):
        return True
    return (RolePermission.select().join(Grant, on=(Grant.role == RolePermission.role))
            .where((Grant.user == user.id)
                   & RolePermission.permission.in_(sorted(ADMIN_JOBS))).exists())


def authenticate(username: str, password: str, settings) -> User:
    """Check the password, counting failures per (user name, client address) and locking
    that pair after too many; a backstop locks the account everywhere after many failures
    from all addresses.

    Failures are written (and audited) before the error is raised; the messages — wrong
    password, and the lock — are the same whether the account exists or not."""
    with db.atomic():
        user, error = _check_login(username, password, settings)
    if error:
        raise AuthError(error)
    return User.get_by_id(user.id)


# Failures are counted on the user name as typed (NFKC, case-folded), so an unknown name
# is counted — and locked — exactly like an existing one: the answers tell nothing of
# which names exist.
FAIL_PAIR = "login.fail"  # key: "<name>|<client address>"
FAIL_NAME = "login.fail.name"  # key: "<name>", every address: the backstop


def _name_key(username: str) -> str:
    return unicodedata.normalize("NFKC", username or "").strip().casefold()[:64]


def _fail_keys(username: str) -> tuple[str, str]:
    name = _name_key(username)
    return f"{name}|{client_address() or 'local'}", name


def _window(settings) -> int:
    return max(60, settings.lockout_minutes * 60)


def _lock_message(settings) -> str:
    # failures of this window still count in the next one: the lock ends with it
    seconds = ratelimit.seconds_left(_window(settings)) + _window(settings)
    return _("Too many failed logins with this user name. Try again in %(n)d minutes.",
             n=max(1, (seconds + 59) // 60))


def _failures(bucket: str, key: str, settings) -> int:
    """Failures counted for ``key`` in this window and the one before (a sliding count:
    no reprieve at a window's boundary)."""
    return sum(ratelimit.recent_hits(bucket, key, _window(settings)))


def login_blocked(username: str, settings, user: User | None = None) -> bool:
    """Whether a login with ``username`` from this client address is refused now: too
    many failures from this address, the backstop reached for the name, or the account
    locked (by the backstop)."""
    pair, name = _fail_keys(username)
    if _failures(FAIL_PAIR, pair, settings) >= settings.login_max_failures:
        return True
    if _failures(FAIL_NAME, name, settings) >= settings.login_backstop_failures:
        return True
    return user is not None and is_locked(user)


def _check_login(username: str, password: str, settings) -> tuple[User | None, str]:
    user = User.get_or_none(User.username == (username or "").strip())
    if login_blocked(username, settings, user):
        record("auth.login_failed", object_type="user",
               object_id=user.id if user is not None else None, user=user,
               summary=f"login refused after too many failures: {username!r}"[:200],
               success=False)
        return user, _lock_message(settings)
    if user is None:
        verify_password(_DUMMY, password or "")  # same time for unknown names
        return None, _count_failure(None, username, settings, f"unknown user {username!r}")
    if not verify_password(user.password_hash, password or ""):
        return user, _count_failure(user, username, settings, "wrong password")
    if not user.active:
        record("auth.login_failed", object_type="user", object_id=user.id, user=user,
               summary="account disabled", success=False)
        return user, _("This account is disabled.")
    changes = {"failed_logins": 0}
    if needs_rehash(user.password_hash):
        changes["password_hash"] = hash_password(password)
    User.update(**changes).where(User.id == user.id).execute()
    return user, ""


def _count_failure(user: User | None, username: str, settings, summary: str) -> str:
    """Audit a failed login and count it for (name, address) and for the name; the
    message to show: the lock's once this failure reached a limit, else the generic one.

    Reaching the backstop locks the account everywhere and ends its open sessions — an
    account under attack from many addresses does not go on unnoticed (MLPS lockout)."""
    record("auth.login_failed", object_type="user", object_id=getattr(user, "id", None),
           user=user, summary=summary[:200], success=False)
    pair, name = _fail_keys(username)
    window = _window(settings)
    ratelimit.hit(FAIL_PAIR, pair, window)
    ratelimit.hit(FAIL_NAME, name, window)
    pair_count = _failures(FAIL_PAIR, pair, settings)
    name_count = _failures(FAIL_NAME, name, settings)
    locked_here = pair_count == settings.login_max_failures
    locked_everywhere = name_count == settings.login_backstop_failures
    if user is not None:
        User.update(failed_logins=User.failed_logins + 1).where(User.id == user.id).execute()
        if locked_here:
            record("auth.lockout", object_type="user", object_id=user.id, user=user,
                   summary=f"locked for {client_address() or 'local'} until the "
                           f"{settings.lockout_minutes}-minute window ends", success=False)
        if locked_everywhere:
            _lock_everywhere(user, settings)
    if pair_count >= settings.login_max_failures or name_count >= settings.login_backstop_failures:
        return _lock_message(settings)
    return _("Wrong user name or password.")


def _lock_everywhere(user: User, settings) -> None:
    until = ratelimit.window_start(_window(settings)) + dt.timedelta(
        seconds=2 * _window(settings))  # the end of the next window, like the count
    User.update(locked_until=until).where(User.id == user.id).execute()
    ended = end_all_sessions(user)
    record("auth.lockout", object_type="user", object_id=user.id, user=user,
           summary=f"locked everywhere after {settings.login_backstop_failures} failures "
                   f"from all addresses; {ended} open sessions ended", success=False)


def clear_failures(user: User) -> int:
    """Forget the counted failures of ``user``'s name (on unlock and password reset)."""
    name = _name_key(user.username)
    return (ratelimit.RateCounter.delete()
            .where(((ratelimit.RateCounter.bucket == FAIL_NAME)
                    & (ratelimit.RateCounter.key == name))
                   | ((ratelimit.RateCounter.bucket == FAIL_PAIR)
                      & ratelimit.RateCounter.key.startswith(name + "|"))).execute())


def second_factor_failed(user: User, settings) -> bool:
    """A wrong TOTP code counts like a wrong password (so codes cannot be guessed).

    Returns True when logins of the account are now refused from this address."""
    with db.atomic():
        _count_failure(user, user.username, settings, "wrong second-factor code")
        return login_blocked(user.username, settings, User.get_by_id(user.id))


def is_locked(user: User) -> bool:
    """Locked everywhere (the backstop), whatever the address."""
    return bool(user.locked_until and user.locked_until > utcnow())


_DUMMY = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$Q0xPOeFzqN3fqWQb2a7oF5sMkPgrHGUYOs2A3mL4d2Y"


def verify_totp(user: User, code: str) -> bool:
    """Check a TOTP code (±1 step); a code already used cannot be used again."""
    code = (code or "").strip().replace(" ", "")
    if not user.totp_secret or not code.isdigit() or len(code) != 6:
        return False
    totp = pyotp.TOTP(user.totp_secret)
    step_now = int(time.time()) // totp.interval
    for step in (step_now - 1, step_now, step_now + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            if step <= user.totp_last_step:
                return False
            n = (User.update(totp_last_step=step)
                 .where((User.id == user.id) & (User.totp_last_step < step)).execute())
            return n == 1
    return False


def new_totp_secret() -> str:
    return pyotp.random_base32()


def enrol_totp(user: User, secret: str, code: str) -> bool:
    """Enrol the second factor (双因素): keep ``secret`` as the user's once ``code``
    proves their authenticator holds it; audited. False, and nothing kept, otherwise."""
    if user.totp_secret:
        raise AuthError(_("This account already has a second factor."))
    user.totp_secret = secret
    with db.atomic():
        if not verify_totp(user, code):
            user.totp_secret = ""
            return False
        User.update(totp_secret=secret).where(User.id == user.id).execute()
        record("user.totp_enrol", object_type="user", object_id=user.id, user=user,
               summary="second factor enrolled")
    return True


def set_locale(user: User | None, locale: str) -> None:
    """The language (界面语言) the user reads the app in, kept on the account for the next
    login (audited); without an account it lives only in the session."""
    if locale not in LOCALES:
        raise FieldError("locale", _("Unknown language."), status=400)
    if user is None or user.locale == locale:
        return
    with db.atomic():
        User.update(locale=locale).where(User.id == user.id).execute()
        record("user.locale", object_type="user", object_id=user.id, user=user,
               summary=f"language {locale}", changes={"locale": [user.locale, locale]})


def start_session(user: User, ip: str, user_agent: str, second_factor_ok: bool) -> str:
    sid = secrets.token_urlsafe(32)
    with db.atomic():
        UserSession.create(sid=sid, user=user, ip=ip[:64], user_agent=user_agent[:255],
                           second_factor_ok=second_factor_ok)
        record("auth.login", object_type="user", object_id=user.id, user=user,
               summary="login" + (" with second factor" if second_factor_ok else ""))
    return sid


def load_session(sid: str, idle_minutes: int, absolute_hours: int = 12) -> User | None:
    """The user of a live session, or None (ended, idle too long, older than its absolute
    lifetime, account disabled or locked)."""
    if not sid:
        return None
    row = (UserSession.select(UserSession, User).join(User)
           .where((UserSession.sid == sid) & UserSession.ended_at.is_null()).first())
    if row is None:
        return None
    now = utcnow()
    if row.last_seen < now - dt.timedelta(minutes=idle_minutes):
        end_session(sid, reason="idle timeout", user=row.user)
        return None
    if row.created_at < now - dt.timedelta(hours=absolute_hours):
        end_session(sid, reason="absolute session lifetime", user=row.user)
        return None
    if is_locked(row.user):
        end_session(sid, reason="account locked", user=row.user)
        return None
    if not row.user.active:
        end_session(sid, reason="account disabled", user=row.user)
        return None
    if not row.second_factor_ok and requires_second_factor(row.user):
        end_session(sid, reason="second factor now required", user=row.user)
        return None
    if (now - row.last_seen).total_seconds() > 30:
        UserSession.update(last_seen=now).where(UserSession.id == row.id).execute()
    return row.user


def end_session(sid: str, reason: str = "logout", user=None) -> None:
    with db.atomic():
        n = (UserSession.update(ended_at=utcnow())
             .where((UserSession.sid == sid) & UserSession.ended_at.is_null()).execute())
        if n:
            record("auth.logout" if reason == "logout" else "auth.session_end",
                   object_type="user", object_id=getattr(user, "id", None), user=user,
                   summary=reason)


def end_all_sessions(user: User) -> int:
    return (UserSession.update(ended_at=utcnow())
            .where((UserSession.user == user.id) & UserSession.ended_at.is_null()).execute())


def change_password(user: User, current: str, new: str, keep_sid: str = "") -> None:
    """Change one's own password; every other session of the account ends."""
    if not verify_password(user.password_hash, current or ""):
        raise AuthError(_("The current password is wrong."))
    if current == new:
        raise AuthError(_("The new password must differ from the current one."))
    check_policy(new, user.username)
    with db.atomic():
        User.update(password_hash=hash_password(new), must_change_password=False,
                    password_changed_at=utcnow()).where(User.id == user.id).execute()
        (UserSession.update(ended_at=utcnow())
         .where((UserSession.user == user.id) & UserSession.ended_at.is_null()
                & (UserSession.sid != keep_sid)).execute())
        record("user.password_change", object_type="user", object_id=user.id, user=user,
               summary="password changed")
