"""Every setting, read from the environment in one place (``QL_*``).

Defaults run with no servers at all: SQLite for data and for the job queue, both
under ``instance/``.
"""
from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlparse

from core.private_files import write_private

ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A setting has a value the application cannot use."""


def _bool(value: str) -> bool:
    v = value.strip().lower()
    if v in {"1", "true", "yes", "on"}:
        return True
    if v in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(f"expected a boolean (true/false), got {value!r}")


KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,16}")
DATA_CIPHERS = {"aes-256-gcm": 32, "sm4-gcm": 16}
LEGACY_CIPHERS = {32: "aes-256-gcm", 16: "aes-128-gcm"}
INDEX_ALGORITHMS = ("hmac-sha256", "hmac-sm3")
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*")


@dataclass(frozen=True)
class Settings:
    """Deployment settings. Build with :meth:`from_env`; override in tests with ``replace``."""

    instance_path: Path = ROOT / "instance"
    database_url: str = ""
    queue_url: str = ""
    plugins: tuple[str, ...] | None = None  # None: every installed plugin
    secret_key: str = ""
    locale: str = "zh_CN"
    timezone: str = "Asia/Shanghai"
    smtp_url: str = ""
    smtp_from: str = "qinglian@localhost"
    sms_gateway_url: str = ""
    webhook_url: str = ""
    webhook_secret: str = ""
    alert_lease_seconds: int = 120
    alert_retry_base_seconds: int = 30
    alert_max_attempts: int = 8
    alert_send_timeout: int = 10
    job_lease_seconds: int = 30  # a periodic job's lease; renewed every third while it runs
    job_late_periods: int = 3  # missed runs in a row before the health check says "late"
    data_key: str = ""  # the key before the key ring: read as its first key, id "0"
    data_keys: str = ""  # the key ring, "id:cipher:hex" entries, oldest first
    data_cipher: str = "aes-256-gcm"  # cipher of generated keys: aes-256-gcm | sm4-gcm
    index_key: str = ""  # "hmac-sha256:hex" | "hmac-sm3:hex": the blind indexes' key
    files_path: str = ""  # encrypted uploads (default instance/files)
    login_max_failures: int = 5
    lockout_minutes: int = 15
    login_backstop_failures: int = 50  # failures of one user name from all addresses
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12  # a session ends this long after login, active or not
    secure_cookies: bool = False
    demo: bool = False
    public_lookup_per_minute: int = 10
    trusted_proxies: int = 0  # proxies in front of the app whose X-Forwarded-For is trusted
    audit_anchor_path: str = ""  # newest audit seal, copied outside the database
    audit_anchor_email: str = ""  # comma-separated addresses receiving each new anchor
    audit_anchor_url: str = ""  # HTTP receiver of each new anchor (e.g. a write-once log)
    audit_anchor_secret: str = ""  # HMAC-SHA256 key signing the anchor POSTs
    audit_anchor_interval_minutes: int = 60
    ocds_prefix: str = "ocds-000000"  # the publisher's ocid prefix, issued by OCP
    discover_plugins: bool = True
    extra: dict = field(default_factory=dict)

    ENV: ClassVar[dict[str, str]] = {
        "instance_path": "QL_INSTANCE_PATH",
        "database_url": "QL_DATABASE_URL",
        "queue_url": "QL_QUEUE_URL",
        "plugins": "QL_PLUGINS",
        "secret_key": "QL_SECRET_KEY",
        "locale": "QL_LOCALE",
        "timezone": "QL_TIMEZONE",
        "smtp_url": "QL_SMTP_URL",
        "smtp_from": "QL_SMTP_FROM",
        "sms_gateway_url": "QL_SMS_GATEWAY_URL",
        "webhook_url": "QL_WEBHOOK_URL",
        "webhook_secret": "QL_WEBHOOK_SECRET",
        "alert_lease_seconds": "QL_ALERT_LEASE_SECONDS",
        "alert_retry_base_seconds": "QL_ALERT_RETRY_BASE_SECONDS",
        "alert_max_attempts": "QL_ALERT_MAX_ATTEMPTS",
        "alert_send_timeout": "QL_ALERT_SEND_TIMEOUT",
        "job_lease_seconds": "QL_JOB_LEASE_SECONDS",
        "job_late_periods": "QL_JOB_LATE_PERIODS",
        "data_key": "QL_DATA_KEY",
        "data_keys": "QL_DATA_KEYS",
        "data_cipher": "QL_DATA_CIPHER",
        "index_key": "QL_INDEX_KEY",
        "files_path": "QL_FILES_PATH",
        "login_max_failures": "QL_LOGIN_MAX_FAILURES",
        "lockout_minutes": "QL_LOCKOUT_MINUTES",
        "login_backstop_failures": "QL_LOGIN_BACKSTOP_FAILURES",
        "session_idle_minutes": "QL_SESSION_IDLE_MINUTES",
        "session_absolute_hours": "QL_SESSION_ABSOLUTE_HOURS",
        "secure_cookies": "QL_SECURE_COOKIES",
        "public_lookup_per_minute": "QL_PUBLIC_LOOKUP_PER_MINUTE",
        "trusted_proxies": "QL_TRUSTED_PROXIES",
        "audit_anchor_path": "QL_AUDIT_ANCHOR_PATH",
        "audit_anchor_email": "QL_AUDIT_ANCHOR_EMAIL",
        "audit_anchor_url": "QL_AUDIT_ANCHOR_URL",
        "audit_anchor_secret": "QL_AUDIT_ANCHOR_SECRET",
        "audit_anchor_interval_minutes": "QL_AUDIT_ANCHOR_INTERVAL_MINUTES",
        "ocds_prefix": "QL_OCDS_PREFIX",
    }

    @classmethod
    def from_env(cls, environ: dict | None = None, **overrides) -> Settings:
        """Read every ``QL_*`` variable; unknown or malformed values raise SettingsError."""
        env = os.environ if environ is None else environ
        values: dict = {}
        types = {f.name: f.type for f in fields(cls)}
        for name, var in cls.ENV.items():
            if var not in env:
                continue
            raw = env[var]
            kind = types[name]
            try:
                if name == "plugins":
                    raw = raw.strip()
                    values[name] = tuple(p.strip() for p in raw.split(",") if p.strip()) \
                        if raw.lower() not in {"none", "-"} else ()
                elif name == "instance_path":
                    values[name] = Path(raw)
                elif kind in ("int", int):
                    values[name] = int(raw)
                elif kind in ("bool", bool):
                    values[name] = _bool(raw)
                else:
                    values[name] = raw
            except ValueError as exc:
                raise SettingsError(f"{var}: {exc}") from None
        values.update(overrides)
        return cls(**values).resolved()

    def resolved(self) -> Settings:
        """Fill the defaults that depend on the instance folder; validate URLs."""
        inst = Path(self.instance_path)
        changes: dict = {"instance_path": inst} if not isinstance(self.instance_path, Path) else {}
        if not self.database_url:
            changes["database_url"] = f"sqlite:///{inst / 'qinglian.db'}"
        if not self.queue_url:
            changes["queue_url"] = f"sqlite:///{inst / 'queue.db'}"
        new = replace(self, **changes) if changes else self
        for name in ("database_url", "queue_url"):
            url = getattr(new, name)
            scheme = url.split("://", 1)[0] if "://" in url else ""
            allowed = {"database_url": {"sqlite", "postgres", "postgresql"},
                       "queue_url": {"sqlite", "redis", "memory"}}[name]
            if scheme not in allowed:
                var = self.ENV[name]
                raise SettingsError(
                    f"{var}: unsupported URL {url!r}; expected one of "
                    + ", ".join(f"{s}://…" for s in sorted(allowed)))
        if new.locale not in {"zh_CN", "en"}:
            raise SettingsError(f"QL_LOCALE: {new.locale!r} is not zh_CN or en")
        new._check_audit_anchor()
        if not 0 <= new.trusted_proxies <= 5:
            raise SettingsError("QL_TRUSTED_PROXIES: expected the number of proxies in front "
                                f"of the app (0–5), got {new.trusted_proxies}")
        new._check_jobs()
        new._check_login()
        new._check_keys()
        if not re.fullmatch(r"ocds-[a-z0-9]{6}", new.ocds_prefix):
            raise SettingsError(f"QL_OCDS_PREFIX: {new.ocds_prefix!r} is not ocds- followed "
                                "by the 6 lower-case letters or digits OCP issued")
        return new

    def _check_login(self) -> None:
        if self.login_max_failures < 1 or self.login_backstop_failures < self.login_max_failures:
            raise SettingsError("QL_LOGIN_BACKSTOP_FAILURES: expected at least "
                                f"QL_LOGIN_MAX_FAILURES ({self.login_max_failures}), got "
                                f"{self.login_backstop_failures}")
        if not 1 <= self.session_absolute_hours <= 24 * 7:
            raise SettingsError("QL_SESSION_ABSOLUTE_HOURS: expected 1–168 hours, got "
                                f"{self.session_absolute_hours}")

    def _check_jobs(self) -> None:
        if self.job_lease_seconds < 3:
            raise SettingsError("QL_JOB_LEASE_SECONDS: expected at least 3 (the lease is "
                                f"renewed every third of it), got {self.job_lease_seconds}")
        if self.job_late_periods < 1:
            raise SettingsError("QL_JOB_LATE_PERIODS: expected at least 1, got "
                                f"{self.job_late_periods}")

    def audit_anchor_emails(self) -> tuple[str, ...]:
        """The addresses of QL_AUDIT_ANCHOR_EMAIL, in order, without blanks."""
        return tuple(a.strip() for a in self.audit_anchor_email.split(",") if a.strip())

    def _check_audit_anchor(self) -> None:
        """Off-site anchor delivery: addresses that are addresses, an http(s) receiver
        with a signing secret, an interval of at least a minute."""
        for address in self.audit_anchor_emails():
            if not _EMAIL.fullmatch(address):
                raise SettingsError(f"QL_AUDIT_ANCHOR_EMAIL: {address!r} is not an e-mail "
                                    "address (expected name@host, comma-separated)")
        if self.audit_anchor_emails() and not self.smtp_url:
            raise SettingsError("QL_AUDIT_ANCHOR_EMAIL needs QL_SMTP_URL: the anchor is "
                                "e-mailed through that server")
        if self.audit_anchor_url:
            parsed = urlparse(self.audit_anchor_url)
            if parsed.scheme not in {"http", "https"} or not parsed.hostname:
                raise SettingsError(f"QL_AUDIT_ANCHOR_URL: {self.audit_anchor_url!r} is not "
                                    "an http:// or https:// URL with a host")
            if not self.audit_anchor_secret:
                raise SettingsError("QL_AUDIT_ANCHOR_URL needs QL_AUDIT_ANCHOR_SECRET: the "
                                    "receiver checks each anchor's HMAC-SHA256 signature")
        if self.audit_anchor_interval_minutes < 1:
            raise SettingsError("QL_AUDIT_ANCHOR_INTERVAL_MINUTES: expected at least 1, got "
                                f"{self.audit_anchor_interval_minutes}")

    def secret(self) -> str:
        """The secret key: QL_SECRET_KEY, else one generated into instance/ on first run."""
        if self.secret_key:
            return self.secret_key
        path = Path(self.instance_path) / "secret_key"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
        return path.read_text().strip()

    # -- keys for personal data (core.pii) ------------------------------------------
    def _check_keys(self) -> None:
        """The key settings parse (files under instance/ are read when first needed)."""
        if self.data_cipher not in DATA_CIPHERS:
            raise SettingsError(f"QL_DATA_CIPHER: {self.data_cipher!r} is not one of "
                                + ", ".join(DATA_CIPHERS))
        if self.data_key:
            legacy_key(self.data_key, "QL_DATA_KEY")
        if self.data_keys:
            parse_key_ring(self.data_keys, "QL_DATA_KEYS")
        if self.index_key:
            parse_index_key(self.index_key, "QL_INDEX_KEY")
        if self.files_path and Path(self.files_path).resolve().is_relative_to(ROOT / "static"):
            raise SettingsError("QL_FILES_PATH: the file store must lie outside the web "
                                f"root ({ROOT / 'static'}): its files are served only after "
                                "a permission check")

    @property
    def key_ring_file(self) -> Path:
        """Where the key ring lives when QL_DATA_KEYS is not set (``keys add`` writes it)."""
        return Path(self.instance_path) / "data_keys"

    @property
    def legacy_key_file(self) -> Path:
        """The single data key generated before the key ring existed (read as key "0")."""
        return Path(self.instance_path) / "data_key"

    def key_ring_entries(self) -> list[KeyEntry]:
        """The data keys, oldest first; the last one encrypts new values.

        QL_DATA_KEY (else ``instance/data_key``, from before the ring) comes first as key
        "0"; then QL_DATA_KEYS (else ``instance/data_keys``). With none of them, a ring
        of one key of QL_DATA_CIPHER is generated into ``instance/data_keys``."""
        entries = []
        if self.data_key:
            entries.append(legacy_key(self.data_key, "QL_DATA_KEY"))
        elif self.legacy_key_file.exists():
            entries.append(legacy_key(self.legacy_key_file.read_text().strip(),
                                      str(self.legacy_key_file)))
        if self.data_keys:
            entries += parse_key_ring(self.data_keys, "QL_DATA_KEYS")
        elif self.key_ring_file.exists():
            entries += parse_key_ring(self.key_ring_file.read_text(), str(self.key_ring_file))
        elif not entries:
            secret = secrets.token_bytes(DATA_CIPHERS[self.data_cipher])
            write_private(self.key_ring_file, f"1:{self.data_cipher}:{secret.hex()}\n".encode(),
                          replace=False)
            entries += parse_key_ring(self.key_ring_file.read_text(), str(self.key_ring_file))
        ids = [e.id for e in entries]
        for key_id in ids:
            if ids.count(key_id) > 1:
                raise SettingsError(f"data key id {key_id!r} appears twice in the key ring "
                                    "(QL_DATA_KEY is key \"0\")")
        return entries

    def key_ring_stamp(self) -> tuple:
        """Changes when a key-ring file changes (running processes reload the ring)."""
        return tuple(_mtime(p) for p in (self.legacy_key_file, self.key_ring_file))

    def blind_index_key(self) -> tuple[str, bytes]:
        """(algorithm, key) of the blind indexes: QL_INDEX_KEY, else ``instance/index_key``,
        generated on first use (HMAC-SM3 when QL_DATA_CIPHER is sm4-gcm, else HMAC-SHA256).

        It is separate from the data keys and never rotates with them, so an index stays
        valid however often the data keys change."""
        if self.index_key:
            return parse_index_key(self.index_key, "QL_INDEX_KEY")
        path = Path(self.instance_path) / "index_key"
        if not path.exists():
            algorithm = "hmac-sm3" if self.data_cipher == "sm4-gcm" else "hmac-sha256"
            write_private(path, f"{algorithm}:{secrets.token_hex(32)}\n".encode(), replace=False)
        return parse_index_key(path.read_text().strip(), str(path))

    def files_root(self) -> Path:
        """The encrypted file store: QL_FILES_PATH, else ``instance/files`` (outside the
        web root either way: nothing there is served as a static file)."""
        return Path(self.files_path) if self.files_path else Path(self.instance_path) / "files"


@dataclass(frozen=True)
class KeyEntry:
    """One key of the data key ring: its id (stored with every ciphertext), cipher,
    secret and where it was read from."""

    id: str
    cipher: str
    secret: bytes = field(repr=False)
    source: str = ""


def legacy_key(text: str, source: str) -> KeyEntry:
    """The pre-ring data key (hex; 32 bytes: AES-256-GCM, 16: AES-128-GCM) as key "0"."""
    try:
        secret = bytes.fromhex(text.strip())
    except ValueError:
        raise SettingsError(f"{source}: expected hexadecimal characters") from None
    if len(secret) not in LEGACY_CIPHERS:
        raise SettingsError(f"{source}: must be 32 or 64 hex characters")
    return KeyEntry("0", LEGACY_CIPHERS[len(secret)], secret, source)


def parse_key_ring(text: str, source: str) -> list[KeyEntry]:
    """``id:cipher:hex`` entries separated by commas, blanks or lines (``#`` comments)."""
    entries = []
    body = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    for item in re.split(r"[\s,]+", body.strip()):
        if not item:
            continue
        parts = item.split(":")
        if len(parts) != 3:
            raise SettingsError(f"{source}: {item[:20]!r}… is not id:cipher:hex")
        key_id, cipher, hexkey = parts
        if not KEY_ID.fullmatch(key_id):
            raise SettingsError(f"{source}: key id {key_id!r} must be 1-16 letters, digits, "
                                "- or _")
        if cipher not in DATA_CIPHERS:
            raise SettingsError(f"{source}: key {key_id}: cipher {cipher!r} is not one of "
                                + ", ".join(DATA_CIPHERS))
        try:
            secret = bytes.fromhex(hexkey)
        except ValueError:
            raise SettingsError(f"{source}: key {key_id}: expected hexadecimal characters") \
                from None
        if len(secret) != DATA_CIPHERS[cipher]:
            raise SettingsError(f"{source}: key {key_id}: {cipher} needs "
                                f"{DATA_CIPHERS[cipher] * 2} hex characters, got {len(hexkey)}")
        entries.append(KeyEntry(key_id, cipher, secret, source))
    if not entries and source == "QL_DATA_KEYS":
        raise SettingsError("QL_DATA_KEYS: no key (expected id:cipher:hex entries)")
    return entries


def parse_index_key(text: str, source: str) -> tuple[str, bytes]:
    """``algorithm:hex`` (or bare hex: HMAC-SHA256), at least 32 bytes."""
    algorithm, _sep, hexkey = text.strip().rpartition(":")
    algorithm = algorithm or "hmac-sha256"
    if algorithm not in INDEX_ALGORITHMS:
        raise SettingsError(f"{source}: {algorithm!r} is not one of " + ", ".join(INDEX_ALGORITHMS))
    try:
        secret = bytes.fromhex(hexkey)
    except ValueError:
        raise SettingsError(f"{source}: expected hexadecimal characters") from None
    if len(secret) < 32:
        raise SettingsError(f"{source}: the index key needs at least 64 hex characters")
    return algorithm, secret


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return 0
