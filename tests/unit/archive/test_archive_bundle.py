"""The archive's chain, export and check without a store: every way an export can be changed is
named by ``verify`` (the file and what is wrong), and the retention table refuses bad entries."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime

import pytest

from loa.archive import signing
from loa.archive.bundle import build_zip, verify
from loa.archive.records import EMPTY, Source, build_record, head_of, record_key, sha256_hex
from loa.archive.retention import Retention
from loa.archive.store import payload_key

pytestmark = pytest.mark.unit

CID = "dinh-chinh-so-lieu-dau-tu"
KEY = signing.private_key(signing.new_private_b64())
TRUSTED = KEY.public_key()


def event(n: int, **payload: object) -> bytes:
    body = {"type": "delivery.status", "event_id": f"00000000-0000-4000-8000-{n:012d}", "payload": payload}
    return json.dumps(body, ensure_ascii=False).encode()


def chain(count: int, payload_sha: str | None = None) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    keys: list[str] = []
    for n in range(1, count + 1):
        head = head_of(keys, files[keys[-1]]) if keys else EMPTY
        raw = event(n, content_id=CID, note="Đã đăng lên Trang Sở Tư pháp", payload_sha256=payload_sha)
        data = build_record(head, CID, raw, Source("loa.delivery.v1", 0, n), "press_release")
        keys.append(record_key(CID, n, f"00000000-0000-4000-8000-{n:012d}"))
        files[keys[-1]] = data
    return files


def zipped(files: dict[str, bytes]) -> bytes:
    return build_zip(files, {"content_ids": [CID]}, KEY)


def changed(data: bytes, edit: dict[str, bytes | None]) -> bytes:
    """The ZIP with some files replaced (bytes) or left out (None), manifest and signature kept."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as old, zipfile.ZipFile(out, "w") as new:
        for name in old.namelist():
            body = edit.get(name, old.read(name))
            if body is not None:
                new.writestr(name, body)
        for name, body in edit.items():
            if name not in old.namelist() and body is not None:
                new.writestr(name, body)
    return out.getvalue()


def test_an_untouched_export_verifies() -> None:
    sent = "Nội dung đã gửi: Đà Nẵng".encode()
    files = chain(3, sha256_hex(sent)) | {payload_key(sha256_hex(sent)): sent}
    verdict = verify(zipped(files), TRUSTED)
    assert verdict.ok, verdict.problems
    assert (verdict.files, verdict.records, verdict.contents) == (4, 3, 1)


def test_each_record_holds_the_hash_of_the_one_before() -> None:
    files = chain(3)
    records = [json.loads(files[k]) for k in sorted(files)]
    hashes = [sha256_hex(files[k]) for k in sorted(files)]
    assert [r["prev_sha256"] for r in records] == ["0" * 64, hashes[0], hashes[1]]
    assert all(r["content_kind"] == "press_release" for r in records)


def test_a_changed_record_is_named_and_breaks_the_next_link() -> None:
    files = chain(3)
    second, third = sorted(files)[1:]
    data = changed(zipped(files), {second: files[second].replace("Tư pháp".encode(), "Tài chính".encode())})
    problems = verify(data, TRUSTED).problems
    assert f"{second}: SHA-256 differs from the manifest's" in problems
    assert f"{third}: prev_sha256 does not match the record before it" in problems


def test_a_removed_record_and_an_added_file_are_named() -> None:
    files = chain(3)
    last = sorted(files)[-1]
    problems = verify(changed(zipped(files), {last: None, "ghi-chu.txt": b"them"}), TRUSTED).problems
    assert f"{last}: in the manifest but missing" in problems
    assert "ghi-chu.txt: in the ZIP but not in the manifest" in problems
    assert f"records/{CID}/: the chain does not end at the manifest's head" in problems


def test_a_payload_named_but_missing_or_changed_is_named() -> None:
    sent = b'{"texts":["Th\xc3\xb4ng b\xc3\xa1o"]}'
    sha = sha256_hex(sent)
    files = chain(1, sha)
    assert (
        f"{sorted(files)[0]}: names payload {sha}, which the export lacks"
        in verify(zipped(files), TRUSTED).problems
    )
    with_payload = zipped(files | {payload_key(sha): sent})
    problems = verify(changed(with_payload, {payload_key(sha): b"{}"}), TRUSTED).problems
    assert f"{payload_key(sha)}: its content does not hash to its name" in problems


def test_a_manifest_rewritten_to_match_fails_the_signature() -> None:
    files = chain(2)
    forged = build_zip(dict(list(files.items())[:1]), {}, signing.private_key(signing.new_private_b64()))
    assert verify(forged, TRUSTED).problems == [
        "manifest.sig: not a signature of manifest.json by the trusted key"
    ]


@pytest.mark.parametrize(
    ("table", "named"),
    [
        ("press_release=10y", "default=PERIOD is required"),
        ("thong_cao=10y,default=5y", "'thong_cao=10y' is not KIND=PERIOD"),
        ("default=5 năm", "default='5 năm': the period is a whole number"),
        ("default=0d", "default='0d'"),
        ("default=5y,default=6y", "default is given twice"),
    ],
)
def test_the_retention_table_refuses_bad_entries_naming_the_setting(table: str, named: str) -> None:
    with pytest.raises(ValueError, match="LOA_ARCHIVE_RETENTION") as refused:
        Retention.parse(table)
    assert named in str(refused.value)


def test_retention_per_kind_and_the_29th_of_february() -> None:
    retention = Retention.parse("press_release=10y, correction=400d, default=5y")
    leap = datetime(2028, 2, 29, 8, 30, tzinfo=UTC)
    assert retention.until("press_release", leap) == datetime(2038, 3, 1, 8, 30, tzinfo=UTC)
    assert retention.until("correction", leap) == datetime(2029, 4, 4, 8, 30, tzinfo=UTC)
    assert (
        retention.until("news", leap)
        == retention.until(None, leap)
        == datetime(2033, 3, 1, 8, 30, tzinfo=UTC)
    )


def test_a_bad_signing_key_is_refused_naming_the_setting_not_the_value() -> None:
    with pytest.raises(ValueError) as refused:
        signing.private_key("bi-mat-khong-hop-le")
    assert "LOA_ARCHIVE_SIGNING_KEY" in str(refused.value) and "bi-mat" not in str(refused.value)
