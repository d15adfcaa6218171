"""What plugins may import from the core: the stable facade.

Plugins import from here (or ``core.hookimpl``), never from deeper modules, so the core can
move its internals without breaking them; ``tests/core/test_plugin_contract.py`` fails on
any other import. ``docs/plugin_api.md`` documents every name.
"""
from __future__ import annotations

from typing import Any

from core.alerts.models import Alert
from core.alerts.service import (
    AlertSpec,
    acknowledge,
    emit,
    emit_many,
    notifications_of,
    resolve,
    supervision_office,
)
from core.audit.service import diff, first_record, mask, record, record_view
from core.auth.kinds import STAFF, for_accounts, is_staff, kind_of
from core.auth.models import ApiToken, User
from core.auth.scope import (
    city_region_ids,
    covers,
    covers_city,
    descendants,
    get_scoped,
    has_permission,
    region_ids,
    regions_in_scope,
    require,
    require_city_wide,
    require_level,
    scoped,
)
from core.auth.service import AuthError, create_external_account
from core.auth.tokens import (
    api_token_required,
    api_tokens,
    current_api_token,
    issue_api_token,
    revoke_api_token,
)
from core.auth.tokens import authenticate as authenticate_api_token
from core.bulk import bulk_insert, bulk_insert_dicts
from core.calendar import (
    CalendarError,
    add_workdays,
    holidays_between,
    is_workday,
    month_bounds,
    sql_workdays_between,
    subtract_workdays,
    workdays_between,
    workdays_in,
    workdays_left,
)
from core.clock import local_day, local_time, now, today, utc_midnight
from core.db import BaseModel, db, is_postgres, utcnow
from core.demo import DEMO_PASSWORD, demo_user, person_name
from core.errors import AccessDenied, FieldError
from core.events import publish
from core.export import Sheet, export_response, safe_cell, write_csv, write_xlsx
from core.forms import (
    DateField,
    DecimalField,
    Form,
    IntegerField,
    MonthField,
    TextAreaField,
    TextField,
    coerce_id,
)
from core.hookspecs import hookimpl, hookspec
from core.i18n import _, _l, deployment_language, ngettext
from core.numbering import format_number, next_number
from core.org.models import Department, Person, Post, PostHolding, Region
from core.parse import (
    check_schema,
    clean_text,
    fold_width,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_id,
    parse_int,
    parse_json,
    parse_month,
    parse_year,
)
from core.pii.crypto import DecryptError, blind_index, decrypt, decrypt_legacy, encrypt
from core.pii.fields import EncryptedField
from core.pii.files import (
    StoredFileError,
    delete_file,
    file_response,
    read_file,
    store_file,
)
from core.pii.models import StoredFile
from core.pii.validate import (
    id_check_char,
    mask_phone,
    mask_resident_id,
    normalize_phone,
    validate_resident_id,
    validate_uscc,
)
from core.plugins import enabled_for, host, regions_enabled, regions_off
from core.queue import huey, periodic, task
from core.ratelimit import RateLimited, client_address, hit, hit_many, hits, rate_limit
from core.sealing import service as sealing
from core.sealing.service import SealError
from core.web.paging import Page, paginate
from core.web.redirects import safe_redirect_target
from core.web.shared_cache import public_cacheable


def call_hook(name: str, **kwargs: Any) -> Any:
    """Call hook ``name`` through pluggy on every enabled plugin: the list of non-None
    results (pluggy's calling order), or the one answer of a ``firstresult`` hook. With a
    ``region`` argument, plugins switched off there are skipped. For a plugin calling the
    hooks it specifies in its own ``hookspecs.py``."""
    return host().call(name, **kwargs)


def csrf_exempt(view: Any) -> Any:
    """Exempt a view or blueprint from the CSRF check: only for machine clients that
    authenticate every request with a token, never for pages a browser posts to."""
    from core.app import csrf
    return csrf.exempt(view)


__all__ = [  # one name a line, sorted: helpers add theirs without conflicts
    "DEMO_PASSWORD",
    "STAFF",
    "AccessDenied",
    "Alert",
    "AlertSpec",
    "ApiToken",
    "AuthError",
    "BaseModel",
    "CalendarError",
    "DateField",
    "DecimalField",
    "DecryptError",
    "Department",
    "EncryptedField",
    "FieldError",
    "Form",
    "IntegerField",
    "MonthField",
    "Page",
    "Person",
    "Post",
    "PostHolding",
    "RateLimited",
    "Region",
    "SealError",
    "Sheet",
    "StoredFile",
    "StoredFileError",
    "TextAreaField",
    "TextField",
    "User",
    "_",
    "_l",
    "acknowledge",
    "add_workdays",
    "api_token_required",
    "api_tokens",
    "authenticate_api_token",
    "blind_index",
    "bulk_insert",
    "bulk_insert_dicts",
    "call_hook",
    "check_schema",
    "city_region_ids",
    "clean_text",
    "client_address",
    "coerce_id",
    "covers",
    "covers_city",
    "create_external_account",
    "csrf_exempt",
    "current_api_token",
    "db",
    "decrypt",
    "decrypt_legacy",
    "delete_file",
    "demo_user",
    "deployment_language",
    "descendants",
    "diff",
    "emit",
    "emit_many",
    "enabled_for",
    "encrypt",
    "export_response",
    "file_response",
    "first_record",
    "fold_width",
    "for_accounts",
    "format_number",
    "get_scoped",
    "has_permission",
    "hit",
    "hit_many",
    "hits",
    "holidays_between",
    "hookimpl",
    "hookspec",
    "huey",
    "id_check_char",
    "is_postgres",
    "is_staff",
    "is_workday",
    "issue_api_token",
    "kind_of",
    "local_day",
    "local_time",
    "mask",
    "mask_phone",
    "mask_resident_id",
    "month_bounds",
    "next_number",
    "ngettext",
    "normalize_phone",
    "notifications_of",
    "now",
    "paginate",
    "parse_date",
    "parse_datetime",
    "parse_decimal",
    "parse_id",
    "parse_int",
    "parse_json",
    "parse_month",
    "parse_year",
    "periodic",
    "person_name",
    "public_cacheable",
    "publish",
    "rate_limit",
    "read_file",
    "record",
    "record_view",
    "region_ids",
    "regions_enabled",
    "regions_in_scope",
    "regions_off",
    "require",
    "require_city_wide",
    "require_level",
    "resolve",
    "revoke_api_token",
    "safe_cell",
    "safe_redirect_target",
    "scoped",
    "sealing",
    "sql_workdays_between",
    "store_file",
    "subtract_workdays",
    "supervision_office",
    "task",
    "today",
    "utc_midnight",
    "utcnow",
    "validate_resident_id",
    "validate_uscc",
    "workdays_between",
    "workdays_in",
    "workdays_left",
    "write_csv",
    "write_xlsx",
]
