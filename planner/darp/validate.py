"""Independent checker: recompute every constraint and the cost of a plan from the instance.

Nothing here comes from the solver: arrival times, loads, ride times, durations and the
distance are recomputed from the :class:`~planner.darp.model.Instance` and the plan's visit order
and service start times, and compared with what the plan claims.
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.darp.model import Instance
from planner.darp.plan import Plan
from planner.errors import InvalidPlanError

TOLERANCE = 1e-6


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken constraint.

    ``kind`` is one of ``unknown_vehicle``, ``unknown_request``, ``duplicate_route``,
    ``served_twice``, ``unserved``, ``missing_pickup``, ``missing_dropoff``,
    ``same_vehicle``, ``precedence``, ``travel_time``, ``service_start``, ``departure``,
    ``time_window``, ``ride_time``, ``shift``, ``route_duration``, ``seats``,
    ``wheelchairs``, ``load_report``, ``location``, ``cost``, ``vehicle_task`` (a vehicle's
    own task, such as a break, left out or served by another vehicle).
    """

    kind: str
    message: str
    vehicle_id: str | None = None
    request_id: str | None = None

    def __str__(self) -> str:
        return self.message


# One pass along each route recomputes every constraint from the instance: the running
# state (time, load, totals) is shared by all checks, and the checker is meant to be read top
# to bottom against the model, so it stays one function.
def validate(instance: Instance, plan: Plan, *, tolerance: float = TOLERANCE) -> list[Violation]:  # noqa: C901
    """Return every constraint the plan breaks (an empty list if it is feasible).

    Parameters
    ----------
    instance
        The problem the plan claims to solve.
    plan
        Routes with timed visits and rejected requests.
    tolerance
        Absolute slack for time and cost comparisons (floating-point noise).

    Returns
    -------
    violations
        In route order; messages name the vehicle, request and the numbers involved.
    """
    tol = tolerance
    out: list[Violation] = []

    def add(
        kind: str, message: str, vehicle: str | None = None, request: str | None = None
    ) -> None:
        out.append(Violation(kind, message, vehicle, request))

    vehicles = {v.id: v for v in instance.vehicles}
    requests = {r.id: r for r in instance.requests}
    tt, dist = instance.travel_times, instance.distances
    where: dict[tuple[str, str], tuple[str, int]] = {}  # (request, kind) -> (vehicle, position)
    starts: dict[tuple[str, str], float] = {}
    routed: set[str] = set()
    total_distance = 0.0
    total_time = 0.0
    for route in plan.routes:
        vid = route.vehicle_id
        veh = vehicles.get(vid)
        if veh is None:
            add("unknown_vehicle", f"route of unknown vehicle {vid!r}", vid)
            continue
        if vid in routed:
            add("duplicate_route", f"vehicle {vid}: more than one route", vid)
        routed.add(vid)
        if not route.visits:
            continue
        if route.departure < veh.shift_start - tol:
            msg = (
                f"vehicle {vid}: departs {route.departure:.4f} "
                f"before shift start {veh.shift_start:.4f}"
            )
            add("shift", msg, vid)
        if route.arrival > veh.shift_end + tol:
            msg = f"vehicle {vid}: returns {route.arrival:.4f} after shift end {veh.shift_end:.4f}"
            add("shift", msg, vid)
        prev_loc, prev_dep = veh.start_depot, route.departure
        pas = wch = 0
        for pos, visit in enumerate(route.visits):
            rid = visit.request_id
            req = requests.get(rid)
            if req is None:
                add("unknown_request", f"vehicle {vid}: unknown request {rid!r}", vid, rid)
                continue
            key = (rid, visit.kind)
            if key in where:
                add("served_twice", f"request {rid}: {visit.kind} visited twice", vid, rid)
                continue
            where[key] = (vid, pos)
            pickup = visit.kind == "pickup"
            loc = req.pickup if pickup else req.dropoff
            if visit.location != loc:
                msg = f"request {rid}: {visit.kind} at location {visit.location}, expected {loc}"
                add("location", msg, vid, rid)
            drive = float(tt[prev_loc, loc])
            total_distance += float(dist[prev_loc, loc])
            total_time += drive
            if visit.arrival < prev_dep + drive - tol:
                msg = (
                    f"vehicle {vid}: arrives at {visit.kind} of {rid} at {visit.arrival:.4f}, "
                    f"earliest possible {prev_dep + drive:.4f}"
                )
                add("travel_time", msg, vid, rid)
            if visit.service_start < visit.arrival - tol:
                msg = (
                    f"request {rid}: {visit.kind} service starts {visit.service_start:.4f} "
                    f"before arrival {visit.arrival:.4f}"
                )
                add("service_start", msg, vid, rid)
            service = req.pickup_service_time if pickup else req.dropoff_service_time
            if visit.departure < visit.service_start + service - tol:
                msg = (
                    f"request {rid}: leaves {visit.kind} at {visit.departure:.4f}, "
                    f"service ends {visit.service_start + service:.4f}"
                )
                add("departure", msg, vid, rid)
            lo = req.earliest_pickup if pickup else req.earliest_dropoff
            hi = req.latest_pickup if pickup else req.latest_dropoff
            if not lo - tol <= visit.service_start <= hi + tol:
                msg = (
                    f"request {rid}: {visit.kind} at {visit.service_start:.4f} outside "
                    f"window [{lo:.4f}, {hi:.4f}]"
                )
                add("time_window", msg, vid, rid)
            starts[key] = visit.service_start
            sign = 1 if pickup else -1
            pas += sign * req.passengers
            wch += sign * req.wheelchairs
            if pas > veh.seats:
                msg = (
                    f"vehicle {vid}: {pas} passengers on board after {visit.kind} of {rid}, "
                    f"{veh.seats} seats"
                )
                add("seats", msg, vid, rid)
            if wch > veh.wheelchair_places:
                msg = (
                    f"vehicle {vid}: {wch} wheelchairs on board after {visit.kind} of {rid}, "
                    f"{veh.wheelchair_places} places"
                )
                add("wheelchairs", msg, vid, rid)
            if (visit.passengers_on_board, visit.wheelchairs_on_board) != (pas, wch):
                msg = (
                    f"vehicle {vid}: plan reports load ({visit.passengers_on_board}, "
                    f"{visit.wheelchairs_on_board}) after {visit.kind} of {rid}, "
                    f"actual ({pas}, {wch})"
                )
                add("load_report", msg, vid, rid)
            prev_loc, prev_dep = loc, visit.departure
        drive = float(tt[prev_loc, veh.end_depot])
        total_distance += float(dist[prev_loc, veh.end_depot])
        total_time += drive
        if route.arrival < prev_dep + drive - tol:
            msg = (
                f"vehicle {vid}: returns to depot at {route.arrival:.4f}, "
                f"earliest possible {prev_dep + drive:.4f}"
            )
            add("travel_time", msg, vid)
        if route.arrival - route.departure > veh.max_route_duration + tol:
            msg = (
                f"vehicle {vid}: route lasts {route.arrival - route.departure:.4f}, "
                f"max {veh.max_route_duration:.4f}"
            )
            add("route_duration", msg, vid)
    rejected = {r.request_id for r in plan.rejected}
    for req in instance.requests:
        rid = req.id
        pick, drop = where.get((rid, "pickup")), where.get((rid, "dropoff"))
        if rid in rejected and (pick is not None or drop is not None):
            add("served_twice", f"request {rid}: served and also listed as rejected", request=rid)
        if pick is None or drop is None:
            if drop is not None:
                add("missing_pickup", f"request {rid}: drop-off without pickup", drop[0], rid)
            elif pick is not None:
                add("missing_dropoff", f"request {rid}: pickup without drop-off", pick[0], rid)
            elif rid not in rejected:
                add("unserved", f"request {rid}: neither served nor rejected", request=rid)
            elif req.vehicle_id is not None:
                msg = f"request {rid}: a task of vehicle {req.vehicle_id} left out"
                add("vehicle_task", msg, req.vehicle_id, rid)
            continue
        if pick[0] != drop[0]:
            msg = f"request {rid}: picked up by {pick[0]}, dropped off by {drop[0]}"
            add("same_vehicle", msg, pick[0], rid)
            continue
        if req.vehicle_id is not None and pick[0] != req.vehicle_id:
            msg = f"request {rid}: a task of vehicle {req.vehicle_id} served by {pick[0]}"
            add("vehicle_task", msg, pick[0], rid)
        if pick[1] > drop[1]:
            add("precedence", f"request {rid}: drop-off before pickup", pick[0], rid)
            continue
        ride = starts[(rid, "dropoff")] - starts[(rid, "pickup")] - req.pickup_service_time
        if ride > req.max_ride_time + tol:
            msg = f"request {rid}: ride time {ride:.4f} exceeds max {req.max_ride_time:.4f}"
            add("ride_time", msg, pick[0], rid)
    for rid in rejected - set(requests):
        add("unknown_request", f"rejected request {rid!r} is not in the instance", request=rid)
    if abs(total_distance - plan.distance) > tol * max(1.0, total_distance):
        msg = f"plan reports distance {plan.distance:.4f}, recomputed {total_distance:.4f}"
        add("cost", msg)
    if abs(total_time - plan.travel_time) > tol * max(1.0, total_time):
        msg = f"plan reports travel time {plan.travel_time:.4f}, recomputed {total_time:.4f}"
        add("cost", msg)
    return out


def check(instance: Instance, plan: Plan, *, tolerance: float = TOLERANCE) -> None:
    """Raise if the plan breaks any constraint.

    Raises
    ------
    InvalidPlanError
        With ``field`` the first violation's kind and ``reason`` all messages.
    """
    violations = validate(instance, plan, tolerance=tolerance)
    if violations:
        reason = "; ".join(v.message for v in violations)
        raise InvalidPlanError(violations[0].kind, reason)
