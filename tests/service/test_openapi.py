"""The OpenAPI schema the service serves is valid and accurate, and fuzzing it finds no server error.

Schemathesis (its ``st run`` command) generates requests from the served schema, valid and invalid,
as admin, against a real `callscope serve` on SQLite and on PostgreSQL; any 5xx or dropped
connection fails the test with the reproducing request in the message.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import schemathesis

from tests.service.conftest import ADMIN

ST = Path(sys.executable).with_name("st")
METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture(scope="module")
def schema(server) -> dict:
    with server.client(None) as anonymous:
        r = anonymous.get("/openapi.json")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    return r.json()


def _operations(schema: dict):
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def test_schema_is_valid_openapi(server, schema):
    schemathesis.openapi.from_url(f"{server.url}/openapi.json").validate()  # against the OpenAPI 3.1 meta-schema
    assert schema["info"]["title"] == "Callscope"
    for path, method in [("/api/health", "get"), ("/api/me", "get"), ("/api/tokens", "post"), ("/api/audit", "get")]:
        assert method in schema["paths"].get(path, {}), f"{method.upper()} {path} missing from the schema"


def test_schema_lists_every_route(schema):
    """Every HTTP route of the route modules (api/routes/*.py, mounted as they are) is in the served
    schema with each of its methods, and the schema lists nothing else."""
    import importlib
    import pkgutil

    from fastapi.routing import APIRoute

    import api.routes

    routes = set()
    for info in pkgutil.iter_modules(api.routes.__path__):
        router = getattr(importlib.import_module(f"api.routes.{info.name}"), "router", None)
        for route in getattr(router, "routes", []):
            if isinstance(route, APIRoute):
                routes |= {(route.path, m.lower()) for m in route.methods if m != "HEAD"}
    listed = {(path, method) for path, method, _ in _operations(schema)}
    assert routes - listed == set(), "routes missing from /openapi.json"
    assert listed - routes == set(), "operations in /openapi.json that no route module serves"


def test_operations_are_described(schema):
    """Each operation says what it does (the route's docstring) and what it answers."""
    vague = [f"{m.upper()} {p}" for p, m, op in _operations(schema) if not op.get("description") or not op.get("responses")]
    assert vague == [], f"operations without a description (docstring): {vague}"


def test_secured_operations_refuse_anonymous_callers(server, schema):
    """The schema's security requirements match the server: a secured operation answers 401 without a
    token; an operation declared open does not ask for one."""
    wrong = []
    with server.client(None) as anonymous:
        for path, method, op in _operations(schema):
            url = re.sub(r"\{[^}]+\}", "1", path)
            secured = bool(op.get("security"))
            if not secured and (method != "get" or "{" in path):
                continue  # open writes or lookups need real input: the fuzzing below covers them
            status = anonymous.request(method.upper(), url).status_code
            if secured != (status == 401):
                wrong.append(f"{method.upper()} {path}: security {'declared' if secured else 'not declared'}, "
                             f"anonymous call answered {status}")
    assert wrong == []


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fuzzed_server(request):
    return request.getfixturevalue("server" if request.param == "sqlite" else "pg_server")


def test_schemathesis_finds_no_server_error(fuzzed_server, tmp_path):
    """`st run` over the served schema (20 examples per operation, all phases) as admin: no 5xx."""
    report = tmp_path / "junit.xml"
    args = [str(ST), "run", f"{fuzzed_server.url}/openapi.json", "--checks", "not_a_server_error",
            "--header", f"Authorization: Bearer {ADMIN}", "--max-examples", "20", "--seed", "1",
            "--workers", "1", "--request-timeout", "30", "--no-color",
            "--report", "junit", "--report-junit-path", str(report)]
    try:
        result = subprocess.run(args, check=False, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"schemathesis did not finish in 300 s:\n{(exc.stdout or b'')[-4000:]}")
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"schemathesis found server errors:\n{output[-12000:]}"
    assert re.search(r"\d+ generated", output), output[-3000:]
    with httpx.Client(base_url=fuzzed_server.url) as c:
        assert c.get("/api/health").json() == {"status": "ok"}  # and the server is still up
