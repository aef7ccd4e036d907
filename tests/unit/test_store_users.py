"""The table of the stores' users (loa.access.storage) and how `make run` hands them out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deploy.local.supervise import parse_procfile, store_credentials
from loa.access.storage import STORE_USERS, minio_policy, minio_table, seaweedfs_identity, store_user
from loa.settings import REPO_ROOT

pytestmark = pytest.mark.unit

PROCFILE = REPO_ROOT / "deploy" / "local" / "services.Procfile"


def test_make_run_gives_each_service_its_own_minio_user_and_root_to_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env.local"
    env_file.write_text(
        "LOA_S3_ACCESS_KEY=loa-dev\nLOA_S3_SECRET_KEY=root-secret\n"
        + "".join(f"{u.secret_setting}={u.service}-secret\n" for u in STORE_USERS)
    )
    for user in STORE_USERS:
        monkeypatch.delenv(user.secret_setting, raising=False)
    for service in parse_procfile(PROCFILE.read_text(encoding="utf-8")):
        credentials = store_credentials(service.name, env_file)
        found = store_user(service.name)
        if service.name in ("sandbox", "listener"):  # no media, no archive: no MinIO user
            assert found is None
            assert credentials == {"LOA_S3_ACCESS_KEY": "", "LOA_S3_SECRET_KEY": ""}
        else:
            assert found is not None, f"{service.name} has no MinIO user in loa.access.storage"
            assert credentials == {
                "LOA_S3_ACCESS_KEY": f"loa-{service.name}",
                "LOA_S3_SECRET_KEY": f"{service.name}-secret",
            }


def test_policies_name_only_the_configured_buckets_and_never_a_wildcard_action() -> None:
    for user in STORE_USERS:
        policy = minio_policy(user, "m-bucket", "w-bucket", "a-bucket")
        for statement in policy["Statement"]:
            assert statement["Effect"] == "Allow"
            assert all(a.startswith("s3:") and "*" not in a for a in statement["Action"])
            assert all(
                r.split(":::")[1].split("/")[0] in ("m-bucket", "w-bucket", "a-bucket")
                for r in statement["Resource"]
            )


def policy_of(service: str) -> dict[str, Any]:
    user = store_user(service)
    assert user is not None
    return minio_policy(user, "media", "web", "arch")


def actions(service: str, resource: str) -> set[str]:
    return {a for s in policy_of(service)["Statement"] if resource in s["Resource"] for a in s["Action"]}


def test_only_the_ingest_writes_originals_and_only_the_website_its_bucket() -> None:
    assert {"s3:PutObject", "s3:DeleteObject"} <= actions("ingest", "arn:aws:s3:::media/*")
    assert actions("ingest", "arn:aws:s3:::web/*") == set()
    for publisher in ("facebook", "zalo", "youtube", "x", "webhook", "website"):
        assert actions(publisher, "arn:aws:s3:::media/*") == {"s3:GetObject"}
        assert actions(publisher, "arn:aws:s3:::media/renditions/*") == {"s3:PutObject"}
    assert "s3:PutObject" in actions("website", "arn:aws:s3:::web/*")
    for publisher in ("facebook", "youtube", "x", "webhook"):
        assert not any("web" in r for s in policy_of(publisher)["Statement"] for r in s["Resource"]), (
            publisher
        )
    # Zalo: only the public copies of images and its own marks, never pages, never a delete
    assert actions("zalo", "arn:aws:s3:::web/*") == set()
    assert actions("zalo", "arn:aws:s3:::web/media/*") == {"s3:GetObject", "s3:PutObject"}
    assert actions("zalo", "arn:aws:s3:::web/_index/media-users/*/zalo:*") == {"s3:PutObject"}
    assert actions("zalo", "arn:aws:s3:::web") == {"s3:GetBucketLocation"}


def test_the_archive_is_appended_to_and_never_deleted_from() -> None:
    """The archiver writes records with their retention, and the payloads the publishers send it
    through Kafka (loa.payload.v1): no publisher touches the archive bucket; no service may delete
    in the archive or bypass its object lock (loa.archive.store)."""
    assert actions("archive", "arn:aws:s3:::arch/*") == {
        "s3:GetObject",
        "s3:PutObject",
        "s3:PutObjectRetention",
    }
    assert "s3:GetBucketObjectLockConfiguration" in actions("archive", "arn:aws:s3:::arch")
    for publisher in ("facebook", "zalo", "youtube", "x", "webhook", "email", "tiktok", "website"):
        assert not any("arch" in r for s in policy_of(publisher)["Statement"] for r in s["Resource"]), (
            publisher
        )
    assert actions("tracker", "arn:aws:s3:::arch/*") == {"s3:GetObject"}  # it exports, never writes
    every = {a for user in STORE_USERS for s in policy_of(user.service)["Statement"] for a in s["Action"]}
    assert not every & {"s3:BypassGovernanceRetention", "s3:PutBucketObjectLockConfiguration"}
    assert all(
        "s3:DeleteObject" not in s["Action"]
        for user in STORE_USERS
        for s in policy_of(user.service)["Statement"]
        if any(r.startswith("arn:aws:s3:::arch") for r in s["Resource"])
    )


def test_docs_show_the_table_the_code_applies() -> None:
    security = (REPO_ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    assert minio_table() in security, "docs/security.md: paste loa.access.storage.minio_table() again"


def test_seaweedfs_identities_keep_each_service_to_its_buckets_and_prefixes() -> None:
    identities = {u.service: seaweedfs_identity(u, f"{u.service}-secret", "m", "w", "a") for u in STORE_USERS}
    for service, identity in identities.items():
        assert identity["credentials"] == [{"accessKey": f"loa-{service}", "secretKey": f"{service}-secret"}]
        # never a bare action (all buckets) nor Admin: each action names a bucket
        assert all(":" in a and not a.startswith("Admin") for a in identity["actions"]), service
    assert identities["ingest"]["actions"] == ["List:m", "Read:m/*", "Write:m/*"]
    # a publisher writes only renditions (SeaweedFS's Write also deletes there: docs/storage.md),
    # and nothing in the archive (what it sends goes there through Kafka)
    assert identities["facebook"]["actions"] == ["List:m", "Read:m/*", "Write:m/renditions/*"]
    assert "Write:w/media/*" in identities["zalo"]["actions"]
    assert not any(a.startswith("Write:w/*") for a in identities["zalo"]["actions"])
    assert "Write:w/*" in identities["website"]["actions"]
