"""The map picker's data: the places for its labels (from places.csv)."""

from __future__ import annotations

from flask.testing import FlaskClient


def test_the_places_come_with_their_population_in_lon_lat_order(client: FlaskClient) -> None:
    data = client.get("/places.geojson").get_json()
    places = {f["properties"]["name"]: f for f in data["features"]}
    assert len(places) == 70
    bernburg = places["Bernburg"]
    assert bernburg["properties"]["population"] == 32113
    lon, lat = bernburg["geometry"]["coordinates"]
    assert 11.7 < lon < 11.8 and 51.7 < lat < 51.8
    assert places["Gröna"]["properties"]["population"] < 1000  # a village, labelled closer in
