"""Suppliers (供应商): registration with the unified social credit code (统一社会信用代码,
GB 32100, its check character verified) and an account of their own (kind ``supplier``):
a supplier logs in like staff but sees only its own pages."""
from __future__ import annotations

from core.api import (
    AuthError,
    FieldError,
    _,
    clean_text,
    create_external_account,
    db,
    record,
    validate_uscc,
)
from plugins.procurement.models import Supplier

KIND = "supplier"


def register(*, name: str, uscc: str, contact: str, phone: str, email: str, address: str,
             password: str, is_demo: bool = False) -> Supplier:
    """Register a supplier and its account (the user name is the credit code)."""
    name = clean_text(name, "name", max_length=200, required=True)
    code = validate_uscc(uscc)
    contact = clean_text(contact, "contact", max_length=64, required=True)
    phone = clean_text(phone, "phone", max_length=20, nfkc=True)
    email = clean_text(email, "email", max_length=120, nfkc=True)
    address = clean_text(address, "address", max_length=200)
    if Supplier.select().where(Supplier.uscc == code).exists():
        raise FieldError("uscc", _("A supplier with this credit code is registered: log in "
                                   "with it."))
    with db.atomic():
        try:
            user = create_external_account(code, password, kind=KIND, email=email,
                                           phone=phone, is_demo=is_demo)
        except AuthError as exc:  # the credit code is taken as a user name
            raise FieldError("uscc", str(exc)) from None
        except ValueError as exc:  # the password policy
            raise FieldError("password", str(exc)) from None
        supplier = Supplier.create(user_id=user.id, name=name, uscc=code, contact=contact,
                                   phone=phone, email=email, address=address)
        record("procurement.supplier.register", object_type="procurement_supplier",
               object_id=supplier.id, user=user, summary=f"supplier {name} ({code})")
    return supplier


def of_user(user) -> Supplier | None:
    """The supplier an account belongs to."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return Supplier.get_or_none(Supplier.user_id == user.id)
