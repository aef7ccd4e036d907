"""The signed export of the archive and its check.

A ZIP holds the records of each content it covers (``records/<content>/...``, whole chains), the
payloads those records name (``payloads/<sha256>.json``), ``manifest.json`` (the SHA-256 and size
of every other file, each content's record count and head) and ``manifest.sig`` (Ed25519 over the
manifest's bytes, ``loa.archive.signing``). ``verify`` checks the signature against a trusted
public key, every file against the manifest (none missing, none extra, none changed), each
content's chain and each named payload, and names the file of each problem.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from minio.error import S3Error

from loa.archive.records import GENESIS, KEY, canonical_json, content_prefix, sha256_hex
from loa.archive.signing import public_b64, sign, signature_ok
from loa.archive.store import PAYLOADS, ArchiveStore, payload_key
from loa.media.store import missing_object

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
FORMAT = 1


def payload_of(record: Mapping[str, Any]) -> str | None:
    """The SHA-256 of what a delivery record says was sent (``Delivery.payload_sha256``)."""
    payload = record.get("event", {}).get("payload", {})
    value = payload.get("payload_sha256") if isinstance(payload, dict) else None
    return value if isinstance(value, str) else None


def collect(store: ArchiveStore, content_ids: Iterable[str]) -> dict[str, bytes]:
    """Every record of ``content_ids`` and every payload they name, by path in the ZIP. A payload
    the store lacks (its publisher could not store it) is left out, and ``verify`` names it."""
    files: dict[str, bytes] = {}
    for content_id in content_ids:
        for key in store.keys(content_prefix(content_id)):
            data = store.read(key)
            files[key] = data
            sha = payload_of(json.loads(data))
            if sha and payload_key(sha) not in files:
                try:
                    files[payload_key(sha)] = store.read(payload_key(sha))
                except S3Error as e:
                    if missing_object(e) is None:
                        raise
    return files


def build_zip(files: Mapping[str, bytes], scope: Mapping[str, Any], key: Ed25519PrivateKey) -> bytes:
    """The ZIP of ``files`` with its manifest and signature."""
    contents: dict[str, dict[str, Any]] = {}
    for path, data in sorted(files.items()):
        match = KEY.match(path)
        if match:
            contents[match["content"]] = {"records": int(match["seq"]), "head_sha256": sha256_hex(data)}
    manifest = canonical_json(
        {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "scope": dict(scope),
            "public_key": public_b64(key),
            "contents": contents,
            "files": {p: {"sha256": sha256_hex(d), "size": len(d)} for p, d in sorted(files.items())},
        }
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in sorted(files.items()):
            archive.writestr(path, data)
        archive.writestr(MANIFEST, manifest)
        archive.writestr(SIGNATURE, sign(key, manifest))
    return out.getvalue()


@dataclass
class Verdict:
    files: int = 0
    records: int = 0
    contents: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(data: bytes, trusted: Ed25519PublicKey) -> Verdict:
    """Check an export; each problem names its file and what is wrong."""
    verdict = Verdict()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        verdict.problems.append("(the file): not a ZIP")
        return verdict
    with archive:
        names = set(archive.namelist())
        if MANIFEST not in names or SIGNATURE not in names:
            verdict.problems.append(f"{MANIFEST}/{SIGNATURE}: missing")
            return verdict
        manifest_bytes = archive.read(MANIFEST)
        if not signature_ok(trusted, manifest_bytes, archive.read(SIGNATURE)):
            verdict.problems.append(f"{SIGNATURE}: not a signature of {MANIFEST} by the trusted key")
        manifest = json.loads(manifest_bytes)
        listed: dict[str, dict[str, Any]] = manifest.get("files", {})
        files = {name: archive.read(name) for name in names - {MANIFEST, SIGNATURE}}
    verdict.files = len(files)
    for name in sorted(set(files) - set(listed)):
        verdict.problems.append(f"{name}: in the ZIP but not in the manifest")
    for name, entry in sorted(listed.items()):
        if name not in files:
            verdict.problems.append(f"{name}: in the manifest but missing")
        elif sha256_hex(files[name]) != entry.get("sha256"):
            verdict.problems.append(f"{name}: SHA-256 differs from the manifest's")
    _check_chains(files, manifest.get("contents", {}), verdict)
    return verdict


def _check_chains(files: Mapping[str, bytes], heads: Mapping[str, Any], verdict: Verdict) -> None:
    chains: dict[str, list[str]] = {}
    for name in sorted(files):
        match = KEY.match(name)
        if match:
            chains.setdefault(match["content"], []).append(name)
        elif name.startswith(PAYLOADS) and name != payload_key(sha256_hex(files[name])):
            verdict.problems.append(f"{name}: its content does not hash to its name")
    verdict.contents = len(chains)
    for content_id, names in sorted(chains.items()):
        prev = GENESIS
        for expected_seq, name in enumerate(names, start=1):
            verdict.records += 1
            data = files[name]
            record = json.loads(data)
            if record.get("seq") != expected_seq or record.get("content_id") != content_id:
                verdict.problems.append(f"{name}: not record {expected_seq} of {content_id}")
            if record.get("prev_sha256") != prev:
                verdict.problems.append(f"{name}: prev_sha256 does not match the record before it")
            sha = payload_of(record)
            if sha and payload_key(sha) not in files:
                verdict.problems.append(f"{name}: names payload {sha}, which the export lacks")
            prev = sha256_hex(data)
        head = heads.get(content_id, {})
        if head.get("records") != len(names) or head.get("head_sha256") != prev:
            verdict.problems.append(f"records/{content_id}/: the chain does not end at the manifest's head")
