"""GTFS-Realtime at stable public URLs under ``/gtfs-rt/``: vehicle positions, trip updates.

Anonymous (journey planners poll them), throttled per client address like other anonymous
endpoints, and free of personal data (:mod:`planner.export.gtfs_rt`). ``?format=json``
gives the same feed as JSON, for people debugging a consumer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, abort, jsonify, request
from flask.typing import ResponseReturnValue
from google.protobuf import json_format
from google.transit import gtfs_realtime_pb2

from planner.export import gtfs_rt
from planner.export.plan import gtfs_stop_id
from planner.live.monitor import day_live
from web.limits import throttled
from web.resident import today
from web.services import services

bp = Blueprint("realtime", __name__, url_prefix="/gtfs-rt")

#: The feed's media type (what GTFS-Realtime consumers expect).
PROTOBUF = "application/x-protobuf"


def _feed(build: Callable[..., bytes], **extra: Any) -> ResponseReturnValue:
    """Answer with the feed ``build`` makes of today's live state; ``extra``: its own arguments."""
    engine = services().engine
    day = today()
    data = build(
        day_live(engine, day),
        day,
        local=engine.local,
        stop_id=lambda node: gtfs_stop_id(engine.catalog, node),
        bus_of={v.id: v.bus_id for v in engine.service.fleet}.__getitem__,
        **extra,
    )
    fmt = request.args.get("format", "pb")
    if fmt == "json":
        message = gtfs_realtime_pb2.FeedMessage.FromString(data)
        return jsonify(json_format.MessageToDict(message, preserving_proto_field_name=True))
    if fmt != "pb":
        abort(400, "format: must be pb or json")
    # journey planners poll every few seconds: a short cache keeps proxies useful
    return Response(data, mimetype=PROTOBUF, headers={"Cache-Control": "max-age=10"})


@bp.get("/vehicle-positions.pb")
@throttled("feeds")
def vehicle_positions() -> ResponseReturnValue:
    """Where each on-demand vehicle is (GTFS-Realtime ``VehiclePositions``)."""
    return _feed(gtfs_rt.vehicle_positions)


@bp.get("/trip-updates.pb")
@throttled("feeds")
def trip_updates() -> ResponseReturnValue:
    """When each vehicle reaches its remaining stops (GTFS-Realtime ``TripUpdates``)."""
    # a trip's stop_sequence counts from its depot, as in the plan's GTFS export
    return _feed(gtfs_rt.trip_updates, depot_of=services().engine.depot_of.__getitem__)
