"""/metrics: only with METRICS_TOKEN, Prometheus's text format, figures per route template, the contest's
events, open attempts from the database, and every server process's figures added up."""

from __future__ import annotations

import subprocess
import sys

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from contest import metrics
from contest.models import Attempt
from contest.settings import PROJECT_ROOT, Settings, SettingsError
from tests import test_api as api
from tests.conftest import csrf_token
from tests.contest_helpers import SLUG, make_contest
from tests.test_contestant_web import HOME, register, save, started
from tests.test_security_headers import assert_secured

TOKEN = "metrics-token-" + "m" * 30
SCRAPE = {"Authorization": f"Bearer {TOKEN}"}
CLICK_ROUTE = "/c/{slug}/bai-thi/{attempt_id}/cau/{position}"


def scrape(client) -> dict[tuple, float]:
    """Every sample of /metrics: (sample name, (label, value)...) -> value."""
    response = client.get("/metrics", headers=SCRAPE)
    assert response.status_code == 200, response.text
    return {(sample.name, *sorted(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.text) for sample in family.samples}


def value(figures: dict[tuple, float], name: str, **labels) -> float:
    return figures.get((name, *sorted(labels.items())), 0.0)


def open_in_database(db) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Attempt).where(Attempt.status == "open"))


@pytest.fixture
def watched(make_client):
    return make_client(metrics_token=TOKEN)


@pytest.fixture
def player(watched, db):
    make_contest(db)
    assert register(watched, db).status_code == 303
    return watched


def test_metrics_are_not_found_without_the_setting(client):
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers=SCRAPE).status_code == 404
    assert client.app.state.metrics is None  # nothing is counted either


@pytest.mark.parametrize("authorization", [None, "", "Bearer", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}",
                                           f"Basic {TOKEN}", "Bearer wrong-token"])
def test_metrics_refuse_a_missing_or_wrong_token(watched, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = watched.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="metrics"'
    assert "contest_" not in response.text


def test_metrics_answer_the_token_in_prometheus_text_format_without_session_or_csrf_cookie(watched):
    response = watched.get("/metrics", headers=SCRAPE)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "set-cookie" not in response.headers
    assert_secured(response)
    names = {family.name for family in text_string_to_metric_families(response.text)}
    assert names == {"contest_http_requests", "contest_http_request_duration_seconds", "contest_answers_saved",
                     "contest_attempts_started", "contest_attempts_submitted", "contest_attempts_open",
                     "contest_db_connection_seconds", "contest_db_checkouts", "contest_metrics_processes"}


def test_token_setting_must_be_long(tmp_path):
    with pytest.raises(SettingsError, match="METRICS_TOKEN"):
        Settings.from_env(environ={"METRICS_TOKEN": "short"}, var_dir=tmp_path)


def test_starts_clicks_page_saves_and_submits_are_counted(player, db):
    attempt_id = started(player, db)
    token = csrf_token(player, HOME)
    assert save(player, attempt_id, 0, 1, token=token).status_code == 200
    assert save(player, attempt_id, 1, 0, token=token).status_code == 200
    assert started(player, db) == attempt_id  # resumed: not started again
    url = f"{HOME}/bai-thi/{attempt_id}/nop"
    page = player.post(url, data={"_csrf_token": token, "q0": "1", "q2": "0", "q3": "1", "action": "save"},
                       follow_redirects=False)
    assert page.status_code == 303  # q0 unchanged: two answers saved
    for _ in range(2):  # a second submit changes nothing
        done = player.post(url, data={"_csrf_token": token, "action": "submit", "confirm": "1"},
                           follow_redirects=False)
        assert done.status_code == 303
    figures = scrape(player)
    assert value(figures, "contest_attempts_started_total", via="page") == 1
    assert value(figures, "contest_answers_saved_total", via="click") == 2
    assert value(figures, "contest_answers_saved_total", via="page") == 2
    assert value(figures, "contest_attempts_submitted_total", via="page") == 1
    assert value(figures, "contest_attempts_submitted_total", via="api") == 0
    assert value(figures, "contest_http_requests_total", route=CLICK_ROUTE, method="POST", status="2xx") == 2
    assert value(figures, "contest_db_checkouts_total") > 0
    assert value(figures, "contest_db_connection_seconds_total") > 0


def test_the_api_counts_as_api(watched, db):
    make_contest(db)
    headers = api.signed_in(watched, db)
    attempt = api.started(watched, headers)
    assert api.save(watched, headers, attempt["id"], 0, [0]).status_code == 200
    assert api.start(watched, headers).status_code == 200  # resumed
    assert api.submit(watched, headers, attempt["id"]).status_code == 200
    assert api.submit(watched, headers, attempt["id"]).status_code == 200  # again: nothing changes
    figures = scrape(watched)
    assert [value(figures, f"contest_{name}_total", via="api")
            for name in ("attempts_started", "answers_saved", "attempts_submitted")] == [1, 1, 1]
    assert value(figures, "contest_answers_saved_total", via="click") == 0
    assert value(figures, "contest_http_requests_total", route="/api/v1/attempts/{attempt_id}/answers/{position}",
                 method="PUT", status="2xx") == 1


def test_requests_are_labelled_by_route_template_never_by_path(player, db):
    attempt_id = started(player, db)
    assert save(player, attempt_id, 3, 0).status_code == 200
    refused = player.post(f"{HOME}/bai-thi/{attempt_id}/cau/4", data={"choice": "1"})  # no CSRF token
    assert refused.status_code == 403
    assert player.get("/no-such-page/12345").status_code == 404
    assert player.get("/static/site.css").status_code == 200
    figures = scrape(player)
    routes = {dict(key[1:]).get("route") for key in figures} - {None}
    assert {CLICK_ROUTE, "/c/{slug}/dot/{number}/bat-dau", "unmatched", "/static/{file_path}"} <= routes
    assert not [route for route in routes if SLUG in route or str(attempt_id) in route]
    assert value(figures, "contest_http_requests_total", route=CLICK_ROUTE, method="POST", status="2xx") == 1
    assert value(figures, "contest_http_requests_total", route=CLICK_ROUTE, method="POST", status="4xx") == 1
    assert value(figures, "contest_http_requests_total", route="unmatched", method="GET", status="4xx") == 1
    # The histogram counts the same requests, whatever their status, in buckets of 5 ms to 10 s.
    assert value(figures, "contest_http_request_duration_seconds_count", route=CLICK_ROUTE, method="POST") == 2
    assert value(figures, "contest_http_request_duration_seconds_bucket", route=CLICK_ROUTE, method="POST",
                 le="+Inf") == 2
    assert value(figures, "contest_http_request_duration_seconds_sum", route=CLICK_ROUTE, method="POST") > 0
    bounds = sorted(float(dict(key[1:])["le"]) for key in figures
                    if key[0] == "contest_http_request_duration_seconds_bucket" and dict(key[1:])["route"] == CLICK_ROUTE)
    assert (bounds[0], bounds[-2], bounds[-1]) == (0.005, 10.0, float("inf"))


def test_open_attempts_gauge_is_read_from_the_database(player, db):
    assert value(scrape(player), "contest_attempts_open") == 0
    attempt_id = started(player, db)
    assert value(scrape(player), "contest_attempts_open") == open_in_database(db) == 1
    token = csrf_token(player, HOME)
    player.post(f"{HOME}/bai-thi/{attempt_id}/nop", data={"_csrf_token": token, "action": "submit", "confirm": "1"})
    assert value(scrape(player), "contest_attempts_open") == open_in_database(db) == 0


OTHER_PROCESS = """
import sys
from pathlib import Path
from contest.metrics import Metrics
figures = Metrics(Path(sys.argv[1]))
figures.count("answers_saved", "click", 5)
figures.observe_request("/c/{slug:str}/bai-thi/{attempt_id:int}/cau/{position:int}", "POST", 200, 0.003)
figures.flush()
"""


def test_a_scrape_adds_up_every_process(player, db, settings):
    attempt_id = started(player, db)
    assert save(player, attempt_id, 0, 1).status_code == 200
    directory = metrics.folder(settings.var_dir)
    subprocess.run([sys.executable, "-c", OTHER_PROCESS, str(directory)], check=True, cwd=PROJECT_ROOT)
    figures = scrape(player)
    assert value(figures, "contest_metrics_processes") == 2
    assert value(figures, "contest_answers_saved_total", via="click") == 1 + 5
    assert value(figures, "contest_http_requests_total", route=CLICK_ROUTE, method="POST", status="2xx") == 1 + 1
    assert value(figures, "contest_http_request_duration_seconds_bucket", route=CLICK_ROUTE, method="POST",
                 le="0.005") >= 1


def test_a_process_writes_its_figures_for_the_others_and_clear_removes_them(watched, settings):
    own, directory = watched.app.state.metrics, metrics.folder(settings.var_dir)
    watched.get("/healthz")
    own.flush()
    assert [path.name for path in directory.iterdir()] == [own.path.name]
    [written] = metrics.Metrics(directory).others()
    assert [row[:3] for row in written["requests"]] == [["/healthz", "GET", "2xx"]]
    metrics.clear(directory)
    assert list(directory.iterdir()) == []
