"""Our JSON Schemas and our models agree (issue #19, "Fidelity").

For each published schema, hypothesis-jsonschema generates instances the schema accepts; each is
parsed by the model as a Kafka message would be. Either the model accepts it, and what the model
emits validates against the same schema, or the model refuses it for a rule the schema's
``description`` names as checked beyond the schema (``constraints.BEYOND_SCHEMA``).
Validation of the emitted event uses the ``jsonschema`` package (Julian Berman's reference
implementation of the JSON Schema specification), with its format checker.
"""

from __future__ import annotations

import json
import os
import unicodedata
from collections import Counter
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from pydantic import TypeAdapter, ValidationError

from loa.events.constraints import BEYOND_SCHEMA
from loa.events.export import SCHEMAS, render
from tests.support.payloads import valid_payload
from tests.support.schema_strategies import from_schema

pytestmark = pytest.mark.unit

EXAMPLES = 200 if os.environ.get("LOA_HYPOTHESIS_PROFILE") == "thorough" else 60
"""Instances per schema. 60 on every run: each run draws new ones (``database=None``, no fixed seed),
so CI's runs add up, and a schema and its model that disagree disagree on most instances of a
branch. The first 10 cost ~3 s of canonicalising the larger schemas, each further one ~0.08 s (of
CPU, content-event): 200 × 12 schemas was 204 s of CPU, 60 is 69 s. ``LOA_HYPOTHESIS_PROFILE=thorough``
draws 200 as before: use it when a schema or a model changes (docs/testing.md)."""
FORMATS = {"uuid": st.uuids().map(str)}
"""hypothesis-jsonschema has no ``uuid`` strategy (it would draw any string)."""
GENERATED: Counter[str] = Counter()
DOCUMENTED_REFUSALS: Counter[str] = Counter()


@cache
def _rendered() -> dict[str, str]:
    return render()


def schema_of(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(_rendered()[f"docs/schemas/{name}.json"])
    return schema


@cache
def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(schema_of(name), format_checker=Draft202012Validator.FORMAT_CHECKER)


@cache
def _adapter(name: str) -> TypeAdapter[Any]:
    return TypeAdapter(SCHEMAS[name])


def _resolve(root: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = root["$defs"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _branches(root: dict[str, Any], node: dict[str, Any]) -> list[dict[str, Any]]:
    node = _resolve(root, node)
    alternatives = node.get("oneOf") or node.get("anyOf")
    if alternatives:
        return [b for alt in alternatives for b in _branches(root, alt)]
    return [node]


def _step(root: dict[str, Any], node: dict[str, Any], part: str | int) -> dict[str, Any] | None:
    for branch in _branches(root, node):
        properties = branch.get("properties", {})
        if isinstance(part, int) and "items" in branch:
            return dict(branch["items"])
        if isinstance(part, str) and part in properties:
            return dict(properties[part])
        # a discriminated union names the chosen event by its tag
        if isinstance(part, str) and properties.get("type", {}).get("const") == part:
            return branch
    return None


def descriptions_at(root: dict[str, Any], loc: tuple[str | int, ...]) -> list[str]:
    """Every description on the schema node an error location points at (and on its parts)."""
    node: dict[str, Any] | None = root
    found: list[str] = []
    for part in loc:
        node = _step(root, node, part) if node is not None else None
        if node is None:
            return found
        found.append(node.get("description", ""))
    assert node is not None
    for branch in _branches(root, node):
        found.append(branch.get("description", ""))
    return found


def is_documented(root: dict[str, Any], error: ValidationError) -> bool:
    return all(
        any(BEYOND_SCHEMA in d for d in descriptions_at(root, tuple(e["loc"]))) for e in error.errors()
    )


def parse(adapter: TypeAdapter[Any], instance: Any) -> tuple[Any, ValidationError | None]:
    """The event as a consumer parses the instance off Kafka, or the model's refusal."""
    try:
        return adapter.validate_json(json.dumps(instance)), None
    except ValidationError as e:
        return None, e


def check(name: str, instance: Any) -> None:
    root, validator, adapter = schema_of(name), _validator(name), _adapter(name)
    assert validator.is_valid(instance)
    GENERATED[name] += 1
    event, refusal = parse(adapter, instance)
    if refusal is not None:
        assert is_documented(root, refusal), f"the schema accepts, the model refuses, undocumented: {refusal}"
        DOCUMENTED_REFUSALS[name] += 1
        return
    emitted = json.loads(adapter.dump_json(event))
    errors = [f"{list(x.absolute_path)}: {x.message}" for x in validator.iter_errors(emitted)]
    assert not errors, f"the model emits what its own schema refuses: {errors}"


def _property(name: str) -> Any:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
    @given(from_schema(schema_of(name), custom_formats=FORMATS))
    def run(instance: Any) -> None:
        check(name, instance)

    return run


@pytest.mark.timeout(900)  # hypothesis-jsonschema canonicalises the larger schemas slowly on 2 busy cores
@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_schema_and_model_agree(name: str) -> None:
    _property(name)()
    assert GENERATED[name] >= EXAMPLES, f"only {GENERATED[name]} instances of {name}"


def approved(**payload_changes: Any) -> dict[str, Any]:
    return {"type": "content.approved", "payload": {**valid_payload("fidelity-1"), **payload_changes}}


@pytest.mark.parametrize(
    ("instance", "why"),
    [
        ({"payload": valid_payload()}, "no type: the consumer cannot tell which event it is"),
        (approved(targets=[{"channel": "zalo", "account": "oa bộ"}]), "an account with a space"),
        (approved(title="Thông cáo\x07báo chí"), "a control character in a plain-text field"),
        (approved(targets=[{"channel": "x", "account": "bo"}] * 2), "the same target twice"),
        (approved(tags=["Chuyển đổi số", "Chuyển đổi số"]), "the same tag twice"),
    ],
)
def test_the_schema_refuses_what_the_first_release_let_through(instance: Any, why: str) -> None:
    assert not _validator("content-event").is_valid(instance), why
    assert parse(_adapter("content-event"), instance)[1] is not None, why


def test_a_body_that_sanitising_grows_past_the_limit_is_refused_with_the_rule_documented() -> None:
    """``&`` becomes ``&amp;``: 1,999,990 characters as sent, more than 2,000,000 once sanitised."""
    body = "<p>" + "Giá & phí " * 199_998 + "</p>"
    assert len(body) < 2_000_000
    instance = approved(body=body)
    assert _validator("content-event").is_valid(instance)
    event, refusal = parse(_adapter("content-event"), instance)
    assert event is None and refusal is not None
    assert [e["loc"][-1] for e in refusal.errors()] == ["body"]
    assert is_documented(schema_of("content-event"), refusal)


def test_a_body_that_fits_once_sanitised_is_emitted_within_the_schema() -> None:
    instance = approved(body="<p>" + "Giá & phí " * 100_000 + "</p>")
    event, refusal = parse(_adapter("content-event"), instance)
    assert refusal is None
    assert _validator("content-event").is_valid(json.loads(_adapter("content-event").dump_json(event)))


def test_a_tag_that_nfc_grows_past_its_limit_is_refused_with_the_rule_documented() -> None:
    """U+FB2C (Hebrew shin with dagesh and shin dot) is excluded from composition: NFC makes it three."""
    tag = "\ufb2c" * 40
    assert len(unicodedata.normalize("NFC", tag)) == 120
    instance = approved(tags=[tag])
    assert _validator("content-event").is_valid(instance)
    _, refusal = parse(_adapter("content-event"), instance)
    assert refusal is not None and is_documented(schema_of("content-event"), refusal)
