"""The JSON API fuzzed from its own OpenAPI schema (schemathesis), in-process, against a real database.

A published contest with an open round and a contestant's started attempt, so generated calls reach
real code: the contest's slug and, for half the cases, the contestant's own attempt are put in the
path; the contestant's bearer token goes with every call. Whatever is generated, the API never
answers a server error; data that fits the schema is also answered in the shapes the schema documents.
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from contest.web.api import SCHEMA_PATH
from tests.contest_helpers import PASSWORD, PHONE, SLUG, make_contest, unit_id

EXAMPLES = 25  # per operation and mode: 12 operations x 2 modes x 25 stays well under a minute
CHECKS = {GenerationMode.POSITIVE: [not_a_server_error, status_code_conformance, content_type_conformance,
                                    response_schema_conformance],
          GenerationMode.NEGATIVE: [not_a_server_error]}


@pytest.fixture
def contestant(client, db) -> dict:
    """A registered contestant's token and started attempt in a contest with an open round."""
    make_contest(db)
    registered = client.post(f"/api/v1/contests/{SLUG}/registrations", json={
        "track": "officials", "full_name": "Nguyễn Thị Lan", "birth_date": "1990-05-17", "phone": PHONE,
        "unit_id": unit_id(db, "SNV"), "password": PASSWORD, "consent": True})
    assert registered.status_code == 201, registered.text
    headers = {"Authorization": f"Bearer {registered.json()['token']}"}
    attempt = client.post(f"/api/v1/contests/{SLUG}/rounds/1/attempts", headers=headers)
    assert attempt.status_code == 201, attempt.text
    return {"headers": headers, "attempt_id": attempt.json()["id"]}


def _aim(case, attempt_id: int) -> None:
    """Point the generated call at the real contest and, for half the cases, at the real attempt."""
    if "slug" in case.path_parameters:
        case.path_parameters["slug"] = SLUG
    if "attempt_id" in case.path_parameters and hash(repr(case.body)) % 2 == 0:
        case.path_parameters["attempt_id"] = attempt_id


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_never_answers_a_server_error_whatever_it_is_sent(client, contestant, mode):
    schema = schemathesis.openapi.from_asgi(f"{SCHEMA_PATH}/openapi.json", client.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    cases: Counter[str] = Counter()
    nothing_invalid = []  # operations whose every input is valid (a path of strings only): no negative case

    for operation in operations:
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def call(case) -> None:
            _aim(case, contestant["attempt_id"])
            response = case.call(headers=contestant["headers"])
            cases[operation.label] += 1
            case.validate_response(response, checks=CHECKS[mode])

        try:
            call()
        except Unsatisfiable:
            if mode is GenerationMode.POSITIVE:
                raise
            nothing_invalid.append(operation.label)

    assert len(operations) == 12
    assert set(cases) | set(nothing_invalid) == {operation.label for operation in operations}
    assert len(nothing_invalid) <= 2
    print(f"{mode.value}: {sum(cases.values())} cases over {len(cases)} operations")
