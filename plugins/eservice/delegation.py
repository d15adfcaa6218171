"""Who may complete a case step (办理环节): a step assigned to a post (审查员, 审批科科长 …)
is completed by a holder of that post in the case's department, or by a colleague under
a recorded, time-bounded delegation (委托) — never by whoever happens to hold the case.
One clerk doing every step is what e-supervision exists to prevent."""
from __future__ import annotations

import datetime as dt

from core.api import (
    AccessDenied,
    Department,
    FieldError,
    Post,
    PostHolding,
    User,
    _,
    db,
    parse_date,
    parse_id,
    record,
    today,
    utcnow,
)
from plugins.eservice.models import StepDelegation

MAX_DELEGATION_DAYS = 92  # a delegation covers an absence, not a standing arrangement


def _holding(person_id, day: dt.date):
    return ((PostHolding.person == person_id) & (PostHolding.start <= day)
            & (PostHolding.end.is_null(True) | (PostHolding.end >= day)))


def held_post(user, department_id: int, title: str, day: dt.date | None = None) -> Post | None:
    """The post titled ``title`` in the department that ``user`` holds on ``day``."""
    if user is None or getattr(user, "person_id", None) is None:
        return None
    return (Post.select().join(PostHolding)
            .where(_holding(user.person_id, day or today())
                   & (Post.department == department_id) & (Post.title == title))
            .order_by(Post.id).first())


def holds(user, post: Post, day: dt.date | None = None) -> bool:
    """Whether ``user`` holds ``post`` on ``day``."""
    if user is None or getattr(user, "person_id", None) is None:
        return False
    return PostHolding.select().where(_holding(user.person_id, day or today())
                                      & (PostHolding.post == post.id)).exists()


def heads(user, department_id: int, day: dt.date | None = None) -> bool:
    """Whether ``user`` holds the head post (负责人) of the department on ``day``."""
    if user is None or getattr(user, "person_id", None) is None:
        return False
    return (Post.select().join(PostHolding)
            .where(_holding(user.person_id, day or today())
                   & (Post.department == department_id) & (Post.is_head == True))
            .exists())


def delegation_for(user, department_id: int, title: str,
                   day: dt.date | None = None) -> StepDelegation | None:
    """The delegation in force on ``day`` that lets ``user`` complete steps of the post
    ``title`` in the department (its grantor still holding the post or heading the
    department that day)."""
    if user is None:
        return None
    day = day or today()
    rows = (StepDelegation.select(StepDelegation, Post).join(Post)
            .where((StepDelegation.delegate == user.id) & (Post.department == department_id)
                   & (Post.title == title) & (StepDelegation.valid_from <= day)
                   & (StepDelegation.valid_until >= day) & StepDelegation.revoked_at.is_null())
            .order_by(StepDelegation.id))
    for row in rows:
        grantor = User.get_by_id(row.delegator_id)
        if holds(grantor, row.post, day) or heads(grantor, department_id, day):
            return row
    return None


def step_authority(case, step, user, day: dt.date | None = None):
    """(post, delegation) under which ``user`` completes ``step`` of ``case`` on ``day``:
    the post they hold, or the delegated post with its delegation. A step assigned to no
    post: (None, None). Anyone else: AccessDenied naming the post and the way out."""
    title = (step.post_title or "").strip()
    if not title:
        return None, None
    post = held_post(user, case.department_id, title, day)
    if post is not None:
        return post, None
    delegation = delegation_for(user, case.department_id, title, day)
    if delegation is not None:
        return delegation.post, delegation
    raise AccessDenied(_(
        "The step “%(step)s” is assigned to the post %(post)s: only a holder of that post in "
        "%(dept)s, or a colleague they delegated it to, may complete it. You hold neither; "
        "nothing was changed.", step=step.name, post=title, dept=case.department.name))


def authorities(user, day: dt.date | None = None) -> set[tuple[int, str]]:
    """Every (department id, post title) whose steps ``user`` may complete on ``day``: the
    posts they hold and those delegated to them (grantor still entitled) — for a list of
    cases at once, where ``step_authority`` answers for one."""
    day = day or today()
    found: set[tuple[int, str]] = set()
    if user is None:
        return found
    if getattr(user, "person_id", None) is not None:
        found |= set(Post.select(Post.department, Post.title).join(PostHolding)
                     .where(_holding(user.person_id, day)).tuples())
    given = (StepDelegation.select(StepDelegation.delegator, Post.department, Post.title)
             .join(Post)
             .where((StepDelegation.delegate == user.id) & (StepDelegation.valid_from <= day)
                    & (StepDelegation.valid_until >= day) & StepDelegation.revoked_at.is_null())
             .tuples())
    for _delegator, department_id, title in given:
        if (department_id, title) not in found \
                and delegation_for(user, department_id, title, day) is not None:
            found.add((department_id, title))
    return found


def delegable_posts(user, day: dt.date | None = None) -> list[Post]:
    """The posts ``user`` may delegate: those they hold, and every post of a department
    they head."""
    if user is None or getattr(user, "person_id", None) is None:
        return []
    day = day or today()
    held = list(Post.select(Post, Department).join(Department).switch(Post).join(PostHolding)
                .where(_holding(user.person_id, day)).order_by(Post.id))
    headed = {p.department_id for p in held if p.is_head}
    more = list(Post.select(Post, Department).join(Department)
                .where(Post.department.in_(list(headed)) & Post.id.not_in([p.id for p in held]
                                                                           or [0]))
                .order_by(Post.department, Post.id)) if headed else []
    return held + more


def colleagues(posts: list[Post], day: dt.date | None = None) -> list[User]:
    """Accounts of the people holding a post in the departments of ``posts`` on ``day``:
    the ones a delegation may go to."""
    departments = {p.department_id for p in posts}
    if not departments:
        return []
    day = day or today()
    people = (PostHolding.select(PostHolding.person).join(Post)
              .where(Post.department.in_(list(departments)) & (PostHolding.start <= day)
                     & (PostHolding.end.is_null(True) | (PostHolding.end >= day))))
    return list(User.select().where(User.person.in_(people) & (User.active == True))
                .order_by(User.username))


def grant(user, *, post_id, delegate_id, valid_from, valid_until, reason: str,
          on: dt.date | None = None) -> StepDelegation:
    """Record a delegation (委托) of ``post`` to a colleague of the same department, from
    ``valid_from`` to ``valid_until`` (at most MAX_DELEGATION_DAYS days, not in the past);
    audited. The grantor holds the post or heads its department (else AccessDenied)."""
    day = on or today()
    post = Post.get_or_none(Post.id == parse_id(post_id, "post_id"))
    if post is None:
        raise FieldError("post_id", _("Choose the post you delegate."))
    if not (holds(user, post, day) or heads(user, post.department_id, day)):
        raise AccessDenied(_("Only a holder of the post %(post)s or the head of its "
                             "department may delegate it.", post=post.title))
    delegate = User.get_or_none(User.id == parse_id(delegate_id, "delegate_id"))
    if delegate is None or delegate.id not in {u.id for u in colleagues([post], day)}:
        raise FieldError("delegate_id", _("Choose a colleague of the same department."))
    if delegate.id == user.id:
        raise FieldError("delegate_id", _("You cannot delegate a post to yourself."))
    start = parse_date(valid_from, "valid_from")
    until = parse_date(valid_until, "valid_until")
    if start < day:
        raise FieldError("valid_from", _("A delegation cannot start in the past."))
    if until < start:
        raise FieldError("valid_until", _("The last day comes after the first day."))
    if (until - start).days + 1 > MAX_DELEGATION_DAYS:
        raise FieldError("valid_until", _("A delegation lasts at most %(n)d days.",
                                          n=MAX_DELEGATION_DAYS))
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise FieldError("reason", _("Give the reason for the delegation (up to 500 "
                                     "characters)."))
    department = Department.get_by_id(post.department_id)
    with db.atomic():
        row = StepDelegation.create(post=post, region=department.region_id, delegator=user.id,
                                    delegate=delegate.id, valid_from=start, valid_until=until,
                                    reason=reason)
        record("eservice.delegation.grant", object_type="eservice_step_delegation",
               object_id=row.id, region_id=department.region_id, user=user,
               summary=f"{department.name} {post.title} → {delegate.username} "
                       f"{start}–{until}",
               changes={"delegate": [None, delegate.username],
                        "valid_from": [None, str(start)], "valid_until": [None, str(until)]})
    return row


def revoke(user, delegation: StepDelegation) -> StepDelegation:
    """End a delegation at once (its grantor, its delegate or the department's head);
    audited. A revoked delegation stays on record."""
    post = Post.get_by_id(delegation.post_id)
    if user.id not in (delegation.delegator_id, delegation.delegate_id) \
            and not heads(user, post.department_id):
        raise AccessDenied(_("Only the grantor, the delegate or the head of the department "
                             "may revoke this delegation."))
    if delegation.revoked_at is not None:
        raise FieldError("delegation", _("This delegation is already revoked."))
    with db.atomic():
        delegation.revoked_at, delegation.revoked_by = utcnow(), user.id
        delegation.save()
        record("eservice.delegation.revoke", object_type="eservice_step_delegation",
               object_id=delegation.id, region_id=delegation.region_id, user=user,
               summary=f"{post.title} → {delegation.delegate.username}",
               changes={"revoked_at": [None, str(delegation.revoked_at)]})
    return delegation


def in_force(department_id: int, day: dt.date | None = None) -> list[StepDelegation]:
    """Delegations in force on ``day`` for posts of the department (shown on its cases)."""
    day = day or today()
    return list(StepDelegation.select(StepDelegation, Post).join(Post)
                .where((Post.department == department_id) & (StepDelegation.valid_from <= day)
                       & (StepDelegation.valid_until >= day)
                       & StepDelegation.revoked_at.is_null())
                .order_by(StepDelegation.valid_until))


def mine(user) -> list[StepDelegation]:
    """Delegations ``user`` granted or received, newest first."""
    return list(StepDelegation.select(StepDelegation, Post).join(Post)
                .where((StepDelegation.delegator == user.id)
                       | (StepDelegation.delegate == user.id))
                .order_by(StepDelegation.id.desc()).limit(200))
