"""Command-line interface of the road network: ``rufbus graph build|info`` and ``rufbus route``."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import click

from routing.graph import Source, parse_source
from routing.matrix import path_totals, shortest_path
from routing.network import Network, default_source, district_area, load_network
from routing.settings import Settings
from routing.stops import find_stop

P = ParamSpec("P")
R = TypeVar("R")


def user_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn Rufbus input errors into a one-line message on stderr and exit code 2.

    Every package's errors follow one protocol: a ``ValueError`` or ``LookupError`` that carries
    ``field`` and ``reason``. Anything else is a bug and keeps its traceback.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (ValueError, LookupError) as exc:
            if not hasattr(exc, "field") or not hasattr(exc, "reason"):
                raise
            click.echo(f"error: {exc}", err=True)
            raise SystemExit(2) from None

    return wrapper


source_option = click.option(
    "--source",
    "source_text",
    metavar="KIND:VALUE",
    help="gtfs:FILE.zip (default: the KVG Salzland feed), osm-file:FILE.osm[.gz|.bz2], "
    'osm-place:"Salzlandkreis, Sachsen-Anhalt, Deutschland" or osm-polygon:FILE.geojson.',
)


def _source(settings: Settings, source_text: str | None) -> Source:
    return parse_source(source_text) if source_text else default_source(settings)


def _network(settings: Settings, source: Source, *, refresh: bool = False) -> Network:
    """Load the network; the district boundary limits snapping for district sources."""
    in_district = source.kind in {"gtfs", "osm-place"}
    return load_network(
        source,
        cache_dir=settings.cache_dir,
        area=district_area(settings) if in_district else None,
        area_name="the Salzlandkreis" if in_district else "the service area",
        refresh=refresh,
    )


@click.group()
def graph() -> None:
    """Build and inspect the road network."""


@graph.command("build")
@source_option
@click.option("--refresh", is_flag=True, help="Rebuild even if a cached graph exists.")
@user_errors
def graph_build(source_text: str | None, refresh: bool) -> None:
    """Build the network of SOURCE and cache it."""
    settings = Settings.from_env()
    source = _source(settings, source_text)
    started = time.perf_counter()
    net = _network(settings, source, refresh=refresh)
    G = net.graph
    click.echo(
        f"{source}: {len(G):,} nodes, {len(G.edges):,} edges "
        f"({G.graph['num_dropped_nodes']:,} nodes outside the largest strongly connected "
        f"component dropped, {G.graph.get('num_connector_edges', 0):,} connector edges) "
        f"in {time.perf_counter() - started:.1f} s"
    )
    click.echo(f"cached as {net.key} in {settings.cache_dir / 'graphs'}")


@graph.command("info")
@source_option
@user_errors
def graph_info(source_text: str | None) -> None:
    """Print size, dropped nodes, bounding box and total length of the network."""
    settings = Settings.from_env()
    source = _source(settings, source_text)
    G = _network(settings, source).graph
    xs = [x for _, x in G.nodes(data="x")]
    ys = [y for _, y in G.nodes(data="y")]
    total_km = sum(length for *_, length in G.edges(data="length")) / 1000
    rows = [
        ("source", str(source)),
        ("nodes", f"{len(G):,}"),
        ("edges", f"{len(G.edges):,}"),
        ("nodes dropped", f"{G.graph['num_dropped_nodes']:,} (outside the largest SCC)"),
        ("connectors", f"{G.graph.get('num_connector_edges', 0):,} (edges joining stranded stops)"),
        ("bounding box", f"lon {min(xs):.4f}..{max(xs):.4f}, lat {min(ys):.4f}..{max(ys):.4f}"),
        ("total length", f"{total_km:,.1f} km"),
    ]
    for label, value in rows:
        click.echo(f"{label:<14} {value}")


def _endpoint(net: Network, text: str) -> tuple[int, str]:
    """A stop name, a GTFS stop id, or ``lat,lon`` -> (node, description)."""
    parts = text.split(",")
    if len(parts) == 2:
        try:
            lat, lon = float(parts[0]), float(parts[1])
        except ValueError:
            pass
        else:
            snapped = net.snap(lon, lat)
            return snapped.node, f"{text} (snapped {snapped.distance_m:,.0f} m)"
    node = find_stop(net.graph, text)
    return node, net.graph.nodes[node].get("name", str(node))


@click.command()
@click.argument("origin", metavar="FROM")
@click.argument("destination", metavar="TO")
@source_option
@user_errors
def route(origin: str, destination: str, source_text: str | None) -> None:
    """Print travel time, distance and the stops passed from FROM to TO.

    FROM and TO are stop names (e.g. "Staßfurt, Bahnhof"), GTFS stop ids or "lat,lon".
    """
    settings = Settings.from_env()
    net = _network(settings, _source(settings, source_text))
    u, u_name = _endpoint(net, origin)
    v, v_name = _endpoint(net, destination)
    path = shortest_path(net.csr, u, v)
    seconds, metres = path_totals(net.graph, path)
    click.echo(f"from   {u_name}\nto     {v_name}")
    click.echo(f"time   {seconds / 60:.1f} min\ndistance {metres / 1000:.2f} km")
    click.echo(f"via    {len(path)} nodes:")
    for node in path:
        click.echo(f"  {net.graph.nodes[node].get('name', node)}")
