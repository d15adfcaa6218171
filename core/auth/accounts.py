"""Account administration (账号管理) by the system administrator.

The system administrator creates, disables, enables and unlocks accounts and resets
passwords, within the regions of their grants; granting roles is not their job (三员分立).
"""
from __future__ import annotations

from peewee import JOIN

from core.audit.service import record
from core.auth.models import User, UserSession
from core.auth.passwords import check_policy, hash_password
from core.auth.scope import grants_of, permissions, region_ids, region_tree
from core.auth.service import ADMIN_JOBS, AuthError, clear_failures, create_user
from core.db import db, utcnow
from core.i18n import _
from core.org.models import Person, Region

MANAGE = "core.users.manage"


def users_in_scope(actor, perm: str = MANAGE, q: str = ""):
    """Accounts whose person lies in the actor's scope for ``perm``, optionally searched.

    Accounts without a person are seen only by holders of ``perm`` at a top region."""
    ids = sorted(region_ids(actor, perm))
    query = User.select(User, Person).join(Person, JOIN.LEFT_OUTER)
    cond = Person.region.in_(ids) if ids else (User.id.is_null(True) & ~User.id.is_null(True))
    if _holds_at_root(actor, perm):
        cond = cond | User.person.is_null(True)
    query = query.where(cond)
    q = (q or "").strip()
    if q:
        like = f"%{q}%"
        query = query.where(User.username ** like | Person.name ** like | User.email ** like
                            | User.phone ** like)
    return query


def _holds_at_root(actor, perm: str) -> bool:
    roots = set(region_tree().get(None, []))
    return any(perm in perms and rid in roots for _r, rid, perms in grants_of(actor))


def get_user_in_scope(actor, user_id: int, perm: str = MANAGE) -> User | None:
    """The account ``user_id`` if it is in the actor's scope, else None (the view says 404)."""
    return users_in_scope(actor, perm).where(User.id == user_id).first()


def create_account(actor, *, username: str, password: str, name: str, region_id: int,
                   email: str = "", phone: str = "", person: Person | None = None) -> User:
    """Create an account for a person in the actor's scope; the password must be changed
    at first login. The account gets no role: grants are the security administrator's."""
    if person is None:
        if region_id not in region_ids(actor, MANAGE):
            raise AuthError(_("region: not within your scope."))
        if not (name or "").strip():
            raise AuthError(_("name: the person's name is required."))
        region = Region.get_by_id(region_id)
        with db.atomic():
            person = Person.create(name=name.strip()[:64], region=region, email=email,
                                   phone=phone)
            return create_user(username, password, email=email, phone=phone, person=person,
                               must_change=True, by=actor)
    if person.region_id not in region_ids(actor, MANAGE):
        raise AuthError(_("person: not within your scope."))
    if User.select().where(User.person == person.id).exists():
        raise AuthError(_("person: this person already has an account."))
    return create_user(username, password, email=email, phone=phone, person=person,
                       must_change=True, by=actor)


def _region_of(user: User) -> int | None:
    return user.person.region_id if user.person_id else None


def _not_self(actor, user: User) -> None:
    if actor is not None and actor.id == user.id:
        raise AuthError(_("You cannot change your own account here."))


def _other_admin_jobs(actor, user: User) -> set[str]:
    """Administrator jobs ``user`` holds that ``actor`` does not (三员分立)."""
    mine = {ADMIN_JOBS[p] for p in permissions(actor) if p in ADMIN_JOBS}
    theirs = {ADMIN_JOBS[p] for _r, _g, perms in grants_of(user) for p in perms
              if p in ADMIN_JOBS}
    return theirs - mine


def admin_jobs(user) -> set[str]:
    """The administrator jobs (三员: system, security, audit) ``user``'s grants carry."""
    return {ADMIN_JOBS[p] for _r, _g, perms in grants_of(user) for p in perms
            if p in ADMIN_JOBS}


def may_change_activation(actor, user: User) -> bool:
    """Whether ``actor`` may disable or enable ``user`` (see :func:`set_active`)."""
    theirs = admin_jobs(user)
    if actor is None or not theirs:
        return True
    mine = admin_jobs(actor)
    return "security_admin" in mine and not theirs & mine


def set_active(actor, user: User, active: bool) -> User:
    """Disable or enable an account. Disabling ends its sessions at once: the next
    request of a live session is refused.

    An account holding an administrator's job (三员分立) is disabled or enabled only by the
    security administrator — never by the system administrator, whose peers the security
    and audit administrators are — and never by someone holding the same job (a peer of
    one's own kind, or oneself): otherwise one administrator could silence the others."""
    _not_self(actor, user)
    if not may_change_activation(actor, user):
        if "security_admin" in admin_jobs(actor) and admin_jobs(user) & admin_jobs(actor):
            raise AuthError(_("This account holds your own administrator job: another "
                              "administrator of the separation must act on it."))
        raise AuthError(_("This account holds an administrator's job: only the security "
                          "administrator may disable or enable it (三员分立)."))
    with db.atomic():
        User.update(active=active).where(User.id == user.id).execute()
        ended = 0
        if not active:
            ended = (UserSession.update(ended_at=utcnow())
                     .where((UserSession.user == user.id) & UserSession.ended_at.is_null())
                     .execute())
        record("user.enable" if active else "user.disable", object_type="user",
               object_id=user.id, user=actor, region_id=_region_of(user),
               changes={"active": [user.active, active]},
               summary=f"{'enable' if active else 'disable'} {user.username}"
                       + (f"; {ended} session(s) ended" if ended else ""))
    return User.get_by_id(user.id)


def reset_password(actor, user: User, password: str) -> User:
    """Set a temporary password the owner must change at next login; end their sessions.

    The second factor stays: whoever resets a password cannot log in as an administrator."""
    _not_self(actor, user)
    if actor is not None and _other_admin_jobs(actor, user):
        raise AuthError(_("This account holds another administrator's job: its password "
                          "cannot be reset by you (whoever resets it could act as them)."))
    check_policy(password, user.username)
    with db.atomic():
        User.update(password_hash=hash_password(password), must_change_password=True,
                    password_changed_at=utcnow(), failed_logins=0, locked_until=None) \
            .where(User.id == user.id).execute()
        clear_failures(user)
        UserSession.update(ended_at=utcnow()).where(
            (UserSession.user == user.id) & UserSession.ended_at.is_null()).execute()
        record("user.password_reset", object_type="user", object_id=user.id, user=actor,
               region_id=_region_of(user), summary=f"password of {user.username} reset",
               changes={"password": ["***", "***"], "must_change_password": [
                   user.must_change_password, True]})
    return User.get_by_id(user.id)


def unlock(actor, user: User) -> User:
    """Release an account locked after failed logins."""
    with db.atomic():
        User.update(failed_logins=0, locked_until=None).where(User.id == user.id).execute()
        clear_failures(user)
        record("user.unlock", object_type="user", object_id=user.id, user=actor,
               region_id=_region_of(user), summary=f"unlock {user.username}",
               changes={"locked_until": [user.locked_until, None]})
    return User.get_by_id(user.id)

