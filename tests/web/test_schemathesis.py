"""Schemathesis against a real ``rufbus serve``: every operation of ``/api/v1/openapi.json``
with a dispatcher's credentials (HTTP Basic), a bounded number of generated requests each.

Checked: no server error, every answer's status, content type and body as the document
says, and every request the document forbids is refused (so the server is not looser than
the document, nor the document looser than the server).
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from routing.settings import Settings
from tests.web.test_server import Server, server_environment
from web.openapi import openapi_spec

#: Generated requests per operation and mode (valid, invalid data): about 2 min on two cores.
MAX_EXAMPLES = 20

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Iterator[Server]:
    server = Server(server_environment(tmp_path_factory.mktemp("schemathesis"), settings))
    server.start()
    yield server
    server.stop()


# Loaded from the app's own document (the fixture loader of schemathesis 4 fails under
# pytest 9); the first test checks that the server serves exactly this document.
schema = schemathesis.openapi.from_dict(openapi_spec())
schema.config.update(basic_auth=("disp", "dispatch-pw"))
schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True)


def test_the_server_serves_the_tested_document(api_server: Server) -> None:
    with urllib.request.urlopen(api_server.base + "/openapi.json", timeout=30) as response:
        assert json.loads(response.read()) == json.loads(json.dumps(openapi_spec()))


@schema.parametrize()
def test_api_keeps_its_document(case: schemathesis.Case, api_server: Server) -> None:
    case.call_and_validate(base_url=api_server.base, checks=CHECKS)
