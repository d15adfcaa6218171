"""Password hashing (argon2id, memory-hard) and the password policy."""
from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from core.i18n import _

_hasher = PasswordHasher()  # argon2id, 64 MiB, t=3 (the library's RFC 9106 profile)

MIN_LENGTH = 10
COMMON = {"password123", "qwertyuiop", "1234567890", "admin12345", "abc1234567",
          "password1!", "qinglian123", "p@ssw0rd12", "woaini1314", "1qaz2wsx3edc"}


class PasswordPolicyError(ValueError):
    """The password breaks the policy; the message says how."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    try:
        return _hasher.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def check_policy(password: str, username: str = "") -> None:
    """At least 10 characters from three of four classes, not the username, not common.

    Raise PasswordPolicyError with a message that names the rule broken."""
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError(_("The password must have at least %(n)d characters.",
                                    n=MIN_LENGTH))
    if len(password) > 128:
        raise PasswordPolicyError(_("The password may have at most 128 characters."))
    classes = sum(bool(re.search(p, password)) for p in
                  (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]"))
    if classes < 3:
        raise PasswordPolicyError(_(
            "The password must mix at least three of: lower-case letters, upper-case "
            "letters, digits, symbols."))
    if username and username.lower() in password.lower():
        raise PasswordPolicyError(_("The password must not contain the user name."))
    if password.lower() in COMMON:
        raise PasswordPolicyError(_("This password is too common."))
