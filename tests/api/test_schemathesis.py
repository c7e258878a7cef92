"""Property-based check of the whole API against its own /openapi.json: whatever schemathesis
generates (valid inputs and deliberately invalid ones), no 500 and no response outside the documented statuses, types and headers.

The operations are driven from here with Hypothesis (schemathesis' pytest plugin does not load
under pytest 9), each with a bounded number of examples so the test stays well under 2 minutes.
"""

from __future__ import annotations

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from schemathesis.generation import GenerationMode

from station.app import Core

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]
EXAMPLES = 25


def test_api_conforms_to_its_openapi(core: Core, app: FastAPI, key: str) -> None:
    client = core.clients.create("Ada", "ada@example.com")
    p = core.passes.create(core.passes.validate("Guest", client_id=client.id))
    core.scans.submit(p.code)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    checked: list[str] = []
    plan = [(op, mode) for op in operations for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
    for operation, mode in plan:

        @given(case=operation.as_strategy(generation_mode=mode))
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
