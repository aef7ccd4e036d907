"""Check every object a ``helm template`` rendered against its API schema, offline.

Kubernetes' own kinds: ``kubernetes-validate`` (PyPI, ships the API's JSON schemas) in strict mode
(an unknown field is an error) for ``KUBERNETES_VERSION``. KEDA's ``ScaledObject`` and
``TriggerAuthentication``, Strimzi's ``KafkaTopic`` and ``KafkaUser``: the ``openAPIV3Schema`` of
the projects' published CRDs, vendored in ``deploy/helm/schemas/`` (their source in each file's first
lines), made strict the same way. (The CRDs' CEL rules, ``x-kubernetes-validations``, are not run.)

    python deploy/helm/validate.py rendered.yaml [...]   # exit 1 naming each invalid object
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

KUBERNETES_VERSION = "1.37.0"
SCHEMAS = Path(__file__).resolve().parent / "schemas"
CRDS = {
    ("keda.sh/v1alpha1", "ScaledObject"): "keda.sh_scaledobjects.yaml",
    ("keda.sh/v1alpha1", "TriggerAuthentication"): "keda.sh_triggerauthentications.yaml",
    ("kafka.strimzi.io/v1", "KafkaTopic"): "kafka.strimzi.io_kafkatopics.yaml",
    ("kafka.strimzi.io/v1", "KafkaUser"): "kafka.strimzi.io_kafkausers.yaml",
}


def strict(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` where every object with declared properties refuses others, as the API server's
    strict field validation does (except where the CRD keeps unknown fields)."""
    schema = dict(schema)
    if "properties" in schema and not schema.get("x-kubernetes-preserve-unknown-fields"):
        schema.setdefault("additionalProperties", False)
        schema["properties"] = {name: strict(sub) for name, sub in schema["properties"].items()}
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            schema[key] = strict(schema[key])
    return schema


@cache
def crd_schema(api_version: str, kind: str) -> dict[str, Any]:
    crd = yaml.safe_load((SCHEMAS / CRDS[(api_version, kind)]).read_text(encoding="utf-8"))
    version = api_version.split("/")[1]
    served = next(v for v in crd["spec"]["versions"] if v["name"] == version)
    return strict(served["schema"]["openAPIV3Schema"])


def problems(obj: dict[str, Any]) -> Iterator[str]:
    """Why ``obj`` is not a valid object of its kind (nothing when it is)."""
    api_version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
    name = f"{kind}/{obj.get('metadata', {}).get('name', '?')}"
    try:
        if (api_version, kind) in CRDS:
            jsonschema.validate(obj, crd_schema(api_version, kind))
        else:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except (jsonschema.ValidationError, kubernetes_validate.ValidationError) as e:
        where = "/".join(str(p) for p in e.absolute_path) or "(root)"
        yield f"{name}: {where}: {e.message}"
    except kubernetes_validate.SchemaNotFoundError:
        yield f"{name}: no schema for {api_version} {kind} in Kubernetes {KUBERNETES_VERSION}"


def documents(texts: Iterable[str]) -> list[dict[str, Any]]:
    return [doc for text in texts for doc in yaml.safe_load_all(text) if doc]


def main(argv: list[str]) -> int:
    objects = documents(Path(p).read_text(encoding="utf-8") for p in argv[1:])
    found = [p for obj in objects for p in problems(obj)]
    for problem in found:
        sys.stderr.write(f"invalid: {problem}\n")
    sys.stdout.write(f"{len(objects)} objects checked, {len(found)} invalid\n")
    return 1 if found or not objects else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
