"""The benchmarks still run: a scenario's main function with tiny sizes, against the real server.

Figures are not checked (they mean something only at full size on a quiet machine); what is checked is
that every request was answered as the scenario expects.
"""

from __future__ import annotations

import json

from bench import announcement


def test_announcement_minute_runs_with_no_errors_while_a_round_takes_saves(tmp_path):
    figures_file = tmp_path / "announcement.json"
    correct = announcement.main(["--phones", "30", "--arrival", "1", "--think", "0.1", "--burst", "5",
                                 "--bursts", "2", "--simulated", "60", "--saving", "24", "--save-think", "0.1",
                                 "--json", str(figures_file)])
    figures = json.loads(figures_file.read_text())
    assert (correct, figures["errors"], figures["lost"]) == (True, 0, 0)
    arrivals = figures["phases"]["arrivals"]["pages"]
    assert {page: s["requests"] for page, s in arrivals.items()} == {"leaderboard": 30, "find_me": 30, "stats": 30}
    assert figures["phases"]["burst_leaderboard"]["pages"]["leaderboard"]["requests"] == 10
    saving = figures["saving"]
    assert (saving["contestants"], saving["attempts_open"], saving["errors"]) == (24, 24, {})
    assert saving["saves"]["acknowledged"] == saving["saves"]["found"] == saving["save"]["requests"] > 0
    assert saving["saves"]["lost"] == 0 and saving["contestants_with_two_attempts"] == 0


def test_entries_uploaded_while_a_round_takes_saves_are_all_stored(tmp_path):
    from bench import uploads

    figures_file = tmp_path / "uploads.json"
    correct = uploads.main(["--entries", "8", "--mb", "0.2", "--phones", "4", "--saving", "12", "--save-think", "0.1",
                            "--json", str(figures_file)])
    figures = json.loads(figures_file.read_text())
    assert (correct, figures["errors"], figures["lost"]) == (True, 0, 0)
    assert figures["uploads"]["requests"] == figures["entries_acknowledged"] == figures["entries_stored"] == 8
    assert figures["files_on_disk"] == 8 and figures["server_peak_rss_mb"] > 0
    saving = figures["saving"]
    assert saving["saves"]["acknowledged"] == saving["saves"]["found"] == saving["save"]["requests"] > 0
