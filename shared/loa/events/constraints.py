"""Limits of a text field, checked on its final value and exported to JSON Schema by one object.

A field's final value is what Loa stores and emits: NFC, and for some fields cleaned further
(sanitised HTML). JSON Schema only sees the text as sent, so a length counted after
normalisation is exported as ``maxLength`` *and* named in the schema's ``description`` as a rule
the model checks beyond the schema. The model is then the stricter side: whatever Loa emits
passes its own schema, and whatever fails only the model says so in the schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

BEYOND_SCHEMA = "Beyond this schema, Loa checks:"
"""Opens every schema description naming a rule JSON Schema cannot express (tests look for it)."""


def beyond_schema(*rules: str) -> str:
    """The description sentence naming rules the model checks and JSON Schema cannot."""
    return f"{BEYOND_SCHEMA} " + "; ".join(rules) + "."


def add_description(json_schema: JsonSchemaValue, sentence: str) -> None:
    """Append ``sentence`` to the schema's description, keeping what was there."""
    current = json_schema.get("description")
    json_schema["description"] = f"{current} {sentence}" if current else sentence


@dataclass(frozen=True)
class Text:
    """Lengths (code points) and pattern of a string, checked after the validators before it."""

    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    counted: str = "after NFC normalisation"
    """What the value has gone through when it is counted (named in the schema's description)."""
    description: str = ""
    """What the field is (a ``Field(description=...)`` beside this would replace the rules)."""
    rules: tuple[str, ...] = ()
    """Further rules the validators before this one enforce and JSON Schema cannot express."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        final = core_schema.str_schema(
            min_length=self.min_length, max_length=self.max_length, pattern=self.pattern
        )
        return core_schema.chain_schema([handler(source), final])

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        if self.min_length is not None:
            json_schema["minLength"] = self.min_length
        if self.max_length is not None:
            json_schema["maxLength"] = self.max_length
        if self.pattern is not None:
            json_schema["pattern"] = self.pattern
        rules = list(self.rules)
        if self.min_length is not None or self.max_length is not None:
            rules.append(f"the length counted {self.counted}")
        if self.description:
            add_description(json_schema, self.description)
        if rules:
            add_description(json_schema, beyond_schema(*rules))
        return json_schema


@dataclass(frozen=True)
class SchemaPattern:
    """Export ``pattern`` for a rule a validator before it enforces (the validator owns the rule)."""

    pattern: str
    rules: tuple[str, ...] = ()
    """Further rules of that validator that JSON Schema cannot express (named in the description)."""

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["pattern"] = self.pattern
        if self.rules:
            add_description(json_schema, beyond_schema(*self.rules))
        return json_schema
