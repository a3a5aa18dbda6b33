"""docs/openapi.yaml describes exactly the HTTP API the server registers, and its error codes
are the catalogue's: a route added, removed or renamed without the description fails here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml
from aiohttp import web

from gikai.signaling import errors
from gikai.signaling.app import create_app
from gikai.signaling.config import ServerConfig

DESCRIPTION = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")


def description() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DESCRIPTION.read_text(encoding="utf-8"))
    return loaded


def described_operations() -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in description()["paths"].items()
            for method in item if method in METHODS}


def registered_operations(app: web.Application) -> set[tuple[str, str]]:
    """(method, OpenAPI path) of every route. aiohttp adds a HEAD to each GET by itself: HEAD is
    left out (HTTP implies it). The static files' prefix is one path with the file as parameter;
    a parameter's regular expression (``{path:.+}``) is not part of its OpenAPI name."""
    found = set()
    for route in app.router.routes():
        if route.method == "HEAD":
            continue
        resource = route.resource
        assert resource is not None
        info = resource.get_info()
        if "prefix" in info:
            path = info["prefix"] + "/{path}"
        else:
            path = info.get("path") or info["formatter"]
        found.add((route.method, path))
    return found


def test_the_description_lists_every_route_the_server_serves_and_no_other(tmp_path):
    app = create_app(ServerConfig(data_dir=tmp_path, presence_detection=False))
    registered, described = registered_operations(app), described_operations()
    assert sorted(registered - described) == [], "routes the server has but docs/openapi.yaml does not describe"
    assert sorted(described - registered) == [], "operations docs/openapi.yaml describes but the server lacks"
    # 55, the caption screen and its events, the draft's state and start; 議員別賛否 and the chamber
    # display; the minutes' signatures (3); the broadcast's playlist and segments (2)
    assert len(described) == 66


def test_every_operation_has_an_id_a_summary_and_documented_answers():
    ids = []
    for path, item in description()["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            ids.append(operation["operationId"])
            assert operation.get("summary"), (method, path)
            assert operation.get("responses"), (method, path)
            assert operation.get("tags"), (method, path)
    assert len(ids) == len(set(ids)), "operation ids are unique"


def test_the_error_codes_described_are_the_catalogue():
    codes = description()["components"]["schemas"]["ErrorCode"]["enum"]
    assert sorted(codes) == sorted(errors.CATALOGUE)


def test_schemathesis_reads_every_operation_of_the_description():
    schema = schemathesis.openapi.from_path(DESCRIPTION)
    operations = [result.ok() for result in schema.get_all_operations()]  # raises on an invalid operation
    assert len(operations) == 66


def test_the_description_is_valid_openapi():
    validator = pytest.importorskip("openapi_spec_validator")  # not a dependency: checked where installed
    validator.validate(description())
