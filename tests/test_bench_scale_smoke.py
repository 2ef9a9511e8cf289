"""The scale benchmarks still run: each scenario with a few dozen contestants, checked for
correctness only (no errors, nothing lost, nobody started twice). Their timings mean nothing
here; the figures come from `make bench` (docs/performance.md)."""

from __future__ import annotations

import json

import pytest

from bench import attempts, throughput
from tests.conftest import POSTGRES_URL, scratch_database


def test_the_opening_minute_runs_and_loses_nothing(tmp_path):
    report = tmp_path / "attempts.json"
    assert attempts.main(["--contestants", "24", "--arrival", "1", "--think", "0.05", "--workers", "2",
                          "--json", str(report)]) is True
    figures = json.loads(report.read_text())
    assert figures["errors"] == {} and figures["saves"]["lost"] == 0
    assert figures["saves"]["acknowledged"] == figures["steps"]["save"]["requests"] > 0
    assert figures["attempts_submitted"] == 24 and figures["contestants_with_two_attempts"] == 0


def test_a_sweep_reports_the_largest_number_that_met_the_targets(tmp_path):
    report = tmp_path / "sweep.json"
    attempts.main(["--sweep", "8", "--arrival", "0.5", "--think", "0.05", "--workers", "1", "--json", str(report)])
    figures = json.loads(report.read_text())
    tried = [run["contestants"] for run in figures["sweep"]]
    assert tried == [8] and all(run["correct"] for run in figures["sweep"])
    met = [run["contestants"] for run in figures["sweep"] if run["targets_met"]]
    assert figures["largest_meeting_targets"] == max(met, default=None)


def test_throughput_against_the_ceiling_runs_both_sides(tmp_path):
    report = tmp_path / "throughput.json"
    assert throughput.main(["--contestants", "6", "--seconds", "0.5", "--rounds", "1", "--concurrency", "4",
                            "--workers", "1", "--json", str(report)]) is True
    summary = json.loads(report.read_text())["summary"]
    for kind in ("save", "page"):
        assert summary[kind]["platform"]["errors"] == summary[kind]["ceiling"]["errors"] == 0
        assert summary[kind]["platform"]["per_s"] > 0 and summary[kind]["ceiling"]["per_s"] > 0


@pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL only (TEST_DATABASE_URL): two app servers share one database")
def test_two_app_servers_on_postgresql_start_nobody_twice(tmp_path):
    report = tmp_path / "postgres.json"
    with scratch_database("bench_smoke") as url:
        assert attempts.main(["--database-url", url, "--contestants", "20", "--arrival", "1", "--think", "0.05",
                              "--workers", "1", "--double-taps", "0.5", "--json", str(report)]) is True
    figures = json.loads(report.read_text())
    assert figures["app_servers"] == 2 and figures["double_taps"]["contestants"] == 10
    assert figures["double_taps"]["answered_with_two_attempts"] == 0 and figures["contestants_with_two_attempts"] == 0
    assert figures["saves"]["lost"] == 0 and figures["errors"] == {}
