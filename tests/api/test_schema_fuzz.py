"""The API keeps the promises of its own OpenAPI document, under fuzzing.

Schemathesis reads ``/api/schema/`` from the live test server and sends every operation requests
built from it: boundary and malformed values (its coverage phase: wrong types, missing required
fields, unknown methods, ...) and generated ones (fuzzing), anonymous and as each of GAEL's demo
roles, against a world where the operations have something real to act on (tests/api/conftest.py).
Path parameters mostly name that world's objects, sometimes what the generator made up.

Every response must be: not a 5xx; a documented status code with a documented content type and a
body matching the documented schema; a 4xx for a request that breaks the schema; a 405 (with
``Allow``) for a method the path does not have.

Bounded for ``make test`` (a few examples per operation, derandomized: the same requests every
run, no example database) and run once per role, each on its own freshly built world, so a role's
run never depends on what another one did (the program admin revokes badges, the reviewer
releases claims, the educator deletes evidence).
"""

from __future__ import annotations

import json
import os
import zlib
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation

from tests.api.conftest import ROLES, World

pytestmark = pytest.mark.django_db(transaction=True)

# A few per operation and role in `make test`; TESSERA_FUZZ_EXAMPLES=200 for a deeper search.
EXAMPLES = int(os.environ.get("TESSERA_FUZZ_EXAMPLES", "6"))

CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "unsupported_method",
    "allow_header_conformance",
]

CONFIG = {
    "seed": 16,
    "generation": {
        "mode": "all",
        "max-examples": EXAMPLES,
        "deterministic": True,
        "database": "none",
    },
    "phases": {
        "examples": {"enabled": False},  # the schema has no examples
        "coverage": {"enabled": True},
        "fuzzing": {"enabled": True},
        "stateful": {"enabled": False},
    },
    "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
    "request-timeout": 30,
}


@pytest.fixture(params=ROLES)
def role(request: pytest.FixtureRequest) -> str:
    """Who sends the requests: one run per role, each on its own world."""
    return str(request.param)


@pytest.fixture
def api_schema(role: str, world: World, live_server: Any) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(
        f"{live_server.url}/api/schema/", config=schemathesis.Config.from_dict(CONFIG)
    )


schema = schemathesis.pytest.from_fixture("api_schema")


def _name_the_world(case: schemathesis.Case, world: World) -> None:
    """Point the path at the world's objects, so that the operation's own logic runs. Not for a
    case about malformed path parameters, nor for one fuzzed case in four (a stable choice: the
    same ones every run), which keep the generator's values and so exercise "not found"."""
    if not case.path_parameters or case.meta is None:
        return
    if case.meta.is_negative_at(ParameterLocation.PATH):
        return
    generated = json.dumps(case.path_parameters, sort_keys=True, default=str).encode()
    if case.meta.phase.name != "coverage" and zlib.crc32(generated) % 4 == 0:
        return
    for name in case.path_parameters:
        values = world.path_values.get(name)
        if not values:
            continue
        value = values[zlib.crc32(generated + name.encode()) % len(values)]
        if name == "item_id" and "/uploads/" in case.operation.path:
            value = world.upload_item
        elif name == "item_id" and case.method == "DELETE":
            value = world.spare_item
        case.path_parameters[name] = value


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_keeps_the_schema(case: schemathesis.Case, role: str, world: World) -> None:
    # given a request built from the schema, as this role, naming the world's objects (mostly)
    _name_the_world(case, world)

    # when it is sent (a redirect is the answer, not followed), then it is what the schema says;
    # a case about a missing required header (the member sync's Bearer token) goes without it
    negative_header = case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER)
    headers = {} if negative_header else world.headers(role)
    case.call_and_validate(headers=headers, allow_redirects=False)
