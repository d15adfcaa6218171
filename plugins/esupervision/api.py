"""Ingestion API for external approval systems: ``POST /api/esupervision/events``.

A core API token of scope ``esupervision.ingest`` per source system (its subject is the
source); CSRF does not apply (no cookies are used). The contract is
docs/esupervision-api.md with the JSON schema beside it.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from core.api import FieldError, api_token_required, current_api_token, parse_json
from plugins.esupervision import services

api = Blueprint("esupervision_api", __name__, url_prefix="/api/esupervision")


def _json():
    """The body through the core's checked JSON parser (size, depth, no NaN)."""
    try:
        return parse_json(request.get_data(cache=False), "body")
    except FieldError as exc:
        raise services.IngestError(exc.status, "invalid_json", exc.message,
                                   {"": exc.message}) from None


@api.post("/events")
@api_token_required(services.INGEST_SCOPE)
def post_event():
    """One event: 201 stored, 400 bad payload, 401 bad token, 409 duplicate/unknown case."""
    source = current_api_token().subject
    try:
        row = services.ingest(_json(), source)
    except services.IngestError as exc:
        return jsonify(exc.body()), exc.status
    return jsonify(status="stored", id=row.id, event_id=row.event_id, source=source), 201


@api.post("/events/batch")
@api_token_required(services.INGEST_SCOPE)
def post_batch():
    """Backfill: ``{"events": [...]}`` applied all-or-nothing, in the order given."""
    source = current_api_token().subject
    try:
        body = _json()
        events = body.get("events") if isinstance(body, dict) else None
        rows = services.ingest_batch(events, source)
    except services.IngestError as exc:
        return jsonify(exc.body()), exc.status
    return jsonify(status="stored", count=len(rows),
                   event_ids=[r.event_id for r in rows], source=source), 201
