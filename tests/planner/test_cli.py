"""``rufbus bench`` through click's CliRunner."""

from __future__ import annotations

import json

from click.testing import CliRunner
from darp_fixtures import FIXTURES

from planner.darp.bench_cli import bench


def test_darp_writes_json_and_table(bench_dir, tmp_path) -> None:
    out = tmp_path / "results.json"
    result = CliRunner().invoke(
        bench,
        ["darp", str(bench_dir / "darp" / "a2-16.txt"), "--time-limit", "1", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "mean gap" in result.output
    (record,) = json.loads(out.read_text())
    for key in ("instance", "cost", "bks", "gap_pct", "served", "requests", "vehicles_used",
                "seconds", "routes"):  # fmt: skip
        assert key in record
    assert record["instance"] == "a2-16" and record["bks"] == 294.25
    assert record["served"] == 16 and record["valid"]
    route = record["routes"][0]
    assert set(route) == {"vehicle", "nodes", "start_times", "depart", "return"}
    assert len(route["nodes"]) == len(route["start_times"])
    nodes = sorted(n for r in record["routes"] for n in r["nodes"])
    assert nodes == list(range(1, 33))


def test_pdptw_with_vroom_peer(bench_dir, tmp_path) -> None:
    out = tmp_path / "p.json"
    args = ["pdptw", str(bench_dir / "pdptw" / "lc101.txt"), "--time-limit", "1", "--out", str(out)]
    result = CliRunner().invoke(bench, args)
    assert result.exit_code == 0, result.output
    (record,) = json.loads(out.read_text())
    assert record["served"] == 53 and record["valid"]
    assert record["vroom"]["served"] == 53 and record["vroom"]["valid"]


def test_bad_file_exits_2_naming_file_and_line() -> None:
    path = FIXTURES / "bad_load.txt"
    result = CliRunner().invoke(bench, ["darp", str(path), "--time-limit", "1"])
    assert result.exit_code == 2
    assert f"{path}: line 3: load 1 / drop-off load 1 do not pair up" in result.output


def test_missing_file_exits_2() -> None:
    result = CliRunner().invoke(bench, ["darp", "no/such/file.txt"])
    assert result.exit_code == 2
    assert "no/such/file.txt: cannot read file" in result.output
