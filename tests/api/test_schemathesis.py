"""Property-based check of the whole API against its own /openapi.json: whatever schemathesis
generates (valid inputs and deliberately invalid ones), no 500, no response outside the
documented statuses, types and headers, and no disagreement between the document and the
server: what it calls valid is never refused with 400/422, what it calls invalid always is.

The operations are driven from here with Hypothesis (schemathesis' pytest plugin does not load
under pytest 9), each with a bounded number of examples so the test stays well under 2 minutes.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from schemathesis.generation import GenerationMode

from station.app import Core
from station.domain.errors import InvalidInput
from station.domain.times import parse_iso
from station.net.integrations import Integrations
from tests.api.conftest import integrations_for

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance,
          positive_data_acceptance, negative_data_rejection]
EXAMPLES = 25


@pytest.fixture
def integrations(core: Core) -> Integrations:
    # Every network allowed (overrides conftest's, so `app` and `key` use it too): which
    # addresses a station accepts is its setting (tested in test_api_inprocess), not
    # something the document can state.
    return integrations_for(core, networks=("0.0.0.0/0", "::/0"))


def load_schema(app: FastAPI) -> Any:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    # The key is sent by the test: generated Authorization headers would only be overwritten,
    # and schemathesis would count the header as a negated part of an otherwise valid request.
    schema.config.generation.update(with_security_parameters=False)
    return schema


def _validity_in_order(case: schemathesis.Case) -> bool:
    body = case.body if isinstance(case.body, dict) else {}
    start, end = body.get("validFrom"), body.get("validUntil")
    if not (isinstance(start, str) and isinstance(end, str)):
        return True
    try:
        return parse_iso(start) < parse_iso(end)
    except InvalidInput:
        return True


def _windows_have_length(case: schemathesis.Case) -> bool:
    body = case.body if isinstance(case.body, dict) else {}
    rules = body.get("rules") if isinstance(body.get("rules"), list) else []
    return not any(isinstance(r, dict) and r.get("rule") == "window"
                   and r.get("from") == r.get("until") for r in rules)


def strategy(operation: Any, mode: GenerationMode) -> Any:
    cases = operation.as_strategy(generation_mode=mode)
    if mode is GenerationMode.POSITIVE and operation.path in (
            "/api/v1/passes", "/api/v1/lists", "/api/v1/lists/{ref}"):
        # validFrom before validUntil, and a window's until not its from (said in their
        # descriptions), are rules between two fields, which JSON Schema cannot state.
        cases = cases.filter(_validity_in_order).filter(_windows_have_length)
    return cases


def test_api_conforms_to_its_openapi(core: Core, app: FastAPI, key: str) -> None:
    client = core.clients.create("Ada", "ada@example.com")
    p = core.passes.create(core.passes.validate("Guest", client_id=client.id))
    core.scans.submit(p.code)
    schema = load_schema(app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    checked: list[str] = []
    plan = [(op, mode) for op in operations for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
    for operation, mode in plan:

        @given(case=strategy(operation, mode))
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, checks=CHECKS)

        try:
            run()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE  # e.g. /health: it has no input to break
            continue
        checked.append(f"{operation.method.upper()} {operation.path} {mode.value}")
    assert "POST /api/v1/scans negative" in checked and "GET /api/v1/triggers positive" in checked
