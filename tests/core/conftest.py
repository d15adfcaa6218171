"""Fixtures shared by the core tests: real receivers for the alert channels."""
from __future__ import annotations

import pytest

from tests.core.alert_receivers import HttpReceiver, SmtpReceiver


@pytest.fixture
def smtp():
    """A real SMTP server (aiosmtpd) on a free port."""
    server = SmtpReceiver()
    yield server
    server.close()


@pytest.fixture
def http():
    """A real HTTP receiver: the SMS gateway."""
    server = HttpReceiver()
    yield server
    server.close()


@pytest.fixture
def hook():
    """A real HTTP receiver: a webhook, or the write-once log server of another unit."""
    server = HttpReceiver()
    yield server
    server.close()
