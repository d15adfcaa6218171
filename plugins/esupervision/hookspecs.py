"""E-supervision's own hooks (电子监察): specified here, not in the core contract, because
only this plugin calls them. The host adds them when the plugin loads (``ql_hookspecs``).
Another plugin implements them with ``@hookimpl(optionalhook=True)`` so it still loads
where e-supervision is off.
"""
from __future__ import annotations

from core.api import hookspec


@hookspec
def ql_esupervision_detectors():
    """Return extra red-signal detectors for the e-supervision plugin (电子监察).

    Each detector is an object with ``code`` (upper-case, unique), ``description``
    (lazy-translated), ``params`` (dict of integer defaults, editable by a supervisor) and
    ``evaluate(ctx) -> [finding]``: ``ctx`` has ``case``, ``events`` (normalised case
    events with ``short``, ``occurred_at``, ``received_at``…), ``replay`` and ``params``;
    each finding has ``key`` (unique within the case) and ``detail``. Called when a case
    event is ingested; a finding becomes a red signal once.

    Example::

        @hookimpl(optionalhook=True)
        def ql_esupervision_detectors():
            class RepeatFee:
                code, description, params = "REPEAT_FEE", _l("Fee charged twice"), {}

                def evaluate(self, ctx):
                    fees = ctx.of("fee_charged")
                    return [SimpleNamespace(key="repeat", detail=f"{len(fees)} charges")] \
                        if len(fees) > 1 else []
            return [RepeatFee()]
    """
