"""The Helm chart (deploy/helm/loa) rendered by the real helm, offline: each values file renders to
objects valid against the Kubernetes API schema, each service reaches only what it needs, secrets
stay in Secrets, production refuses the sandbox, KEDA stops at the partition count."""

from __future__ import annotations

import os
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy.helm import chart_tables
from deploy.helm.validate import problems
from loa.access.storage import store_user
from loa.events import topics as loa_topics
from loa.kafka_acl import CHANNELS, USERS, acls_of, publisher_group
from loa.settings import CHECKOUT_PYTHONPATH, REPO_ROOT

pytestmark = pytest.mark.unit

CHART = REPO_ROOT / "deploy" / "helm" / "loa"
VALUES_FILES = (
    "values.yaml",
    "values-production.yaml",
    "values-existing-infra.yaml",
    "values-development.yaml",
)
SERVICES = tuple(u.service for u in USERS)
DNS, KAFKA, POSTGRES, S3, HTTPS, SUBMISSION = 53, 9093, 5432, 9000, 443, 587
Obj = dict[str, Any]


@pytest.fixture(scope="session")
def helm(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The helm that deploy/helm/check.sh builds into the cache (`go install`, once)."""
    subprocess.run(["bash", str(REPO_ROOT / "deploy/helm/check.sh"), "install"], check=True)
    cache = Path(os.environ.get("LOA_CACHE_DIR", REPO_ROOT / ".loa")).resolve()
    home = tmp_path_factory.mktemp("helm-home")
    for var in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"):
        os.environ[var] = str(home / var)
    return [str(cache / "bin" / "helm")]


def helm_template(helm: list[str], values: str, *sets: str) -> subprocess.CompletedProcess[str]:
    args = [*helm, "template", "loa", str(CHART), "--namespace", "loa", "-f", str(CHART / values)]
    for setting in sets:
        args += ["--set", setting]
    return subprocess.run(args, capture_output=True, text=True, check=False)


@cache
def rendered(helm: tuple[str, ...], values: str, *sets: str) -> str:
    """helm's output, once per values file and settings (tests read it, never change it)."""
    done = helm_template(list(helm), values, *sets)
    assert done.returncode == 0, done.stderr
    return done.stdout


def render(helm: list[str], values: str, *sets: str) -> list[Obj]:
    return [doc for doc in yaml.safe_load_all(rendered(tuple(helm), values, *sets)) if doc]


def of_kind(objects: list[Obj], kind: str) -> dict[str, Obj]:
    """``{component or name: object}`` of one kind."""
    found = {}
    for obj in objects:
        if obj["kind"] == kind:
            labels = obj["spec"]["template"]["metadata"]["labels"] if kind in ("Deployment", "Job") else {}
            found[labels.get("app.kubernetes.io/component") or obj["metadata"]["name"]] = obj
    return found


def policy_of(objects: list[Obj], service: str) -> Obj:
    return next(
        o for o in objects if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == f"loa-{service}"
    )


def egress_ports(policy: Obj) -> set[int]:
    return {port["port"] for rule in policy["spec"]["egress"] for port in rule.get("ports", [])}


@pytest.mark.parametrize("values", VALUES_FILES)
def test_each_values_file_renders_objects_valid_against_the_api_schema(helm: list[str], values: str) -> None:
    objects = render(helm, values)
    assert [p for obj in objects for p in problems(obj)] == []
    deployments = of_kind(objects, "Deployment")
    expected = set(SERVICES) - {"youtube"} if values == "values-development.yaml" else set(SERVICES)
    assert expected <= set(deployments)


def test_the_schema_check_refuses_an_unknown_field_and_a_wrong_type() -> None:
    bad_field = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "x"}, "automount": False}
    bad_type = {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": "x"},
        "spec": {"scaleTargetRef": {"name": "x"}, "maxReplicaCount": "twelve", "triggers": []},
    }
    bad_enum = {
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaUser",
        "metadata": {"name": "x"},
        "spec": {
            "authorization": {
                "type": "simple",
                "acls": [{"resource": {"type": "topic"}, "operations": ["Đọc"]}],
            }
        },
    }
    assert list(problems(bad_field)) and list(problems(bad_type)) and list(problems(bad_enum))


def test_the_chart_tables_are_generated_from_the_code() -> None:
    assert (CHART / "files" / "loa.json").read_text(encoding="utf-8") == chart_tables.render()


def test_strimzi_users_carry_exactly_the_acl_table_under_the_topic_prefix(helm: list[str]) -> None:
    objects = render(helm, "values-existing-infra.yaml", "kafka.topicPrefix=bo-tttt.")
    users = {o["metadata"]["name"]: o for o in objects if o["kind"] == "KafkaUser"}
    assert set(users) == {u.name for u in USERS}
    for user in USERS:
        rendered = {
            (a["resource"]["type"], a["resource"]["name"], op)
            for a in users[user.name]["spec"]["authorization"]["acls"]
            for op in a["operations"]
        }
        wanted = {(a.resource.lower(), a.name, a.operation.capitalize()) for a in acls_of(user, "bo-tttt.")}
        assert rendered == wanted, user.name
    topics = {o["spec"]["topicName"] for o in objects if o["kind"] == "KafkaTopic"}
    assert topics == {f"bo-tttt.{t}" for t in loa_topics.ALL}  # loa.engagement.v1 (listener) too


def test_each_service_reaches_only_what_it_needs(helm: list[str]) -> None:
    objects = render(helm, "values-production.yaml", "s3.port=9000", "kafka.port=9093")
    ports = chart_tables.health_ports()
    for service in SERVICES:
        needs = {DNS, KAFKA}
        if chart_tables.store_of(service) is not None:  # the archiver has no database
            needs.add(POSTGRES)
        if store_user(service) is not None:
            needs.add(S3)
        if service == "email":  # its SMTP relay, no platform
            needs.add(SUBMISSION)
        elif service in CHANNELS or service == "listener":
            needs.add(HTTPS)  # the platform's API (the listener reads the posts' figures there)
        if service == "listener":  # the website's page views (GET /_api/v1/views) on the site's port
            needs.add(chart_tables.SERVER_PORTS["website"])
        if service == "tracker":  # OIDC, OAuth of Connect; each publisher's /readyz for the dashboard
            needs |= {HTTPS, *(ports[c] for c in CHANNELS)}
        assert egress_ports(policy_of(objects, service)) == needs, service
    # the publishers' platform egress is the public internet only, never a private range
    platform = next(r for r in policy_of(objects, "x")["spec"]["egress"] if r["ports"][0]["port"] == HTTPS)
    assert "10.0.0.0/8" in platform["to"][0]["ipBlock"]["except"]
    listener = policy_of(objects, "listener")["spec"]["egress"]
    listener = [r["to"] for r in listener if r["ports"][0]["port"] == HTTPS]
    assert listener == [platform["to"]]  # the platforms alone, and no S3 (it has no store user)
    # the tracker's https: the platforms' OAuth (Connect), and the OIDC issuer's address alone
    tracker = policy_of(objects, "tracker")["spec"]["egress"]
    issuer = [{"ipBlock": {"cidr": "10.20.3.10/32"}}]
    assert [r["to"] for r in tracker if r["ports"][0]["port"] == HTTPS] == [platform["to"], issuer]


def test_extra_egress_is_added_to_that_service_alone(helm: list[str]) -> None:
    rule = "services.webhook.extraEgress[0].to[0].ipBlock.cidr=10.30.0.15/32"
    port = "services.webhook.extraEgress[0].ports[0].port=8443"
    objects = render(helm, "values.yaml", rule, port)
    assert 8443 in egress_ports(policy_of(objects, "webhook"))
    assert 8443 not in egress_ports(policy_of(objects, "facebook"))


def test_development_publishers_and_the_listener_reach_the_sandbox_and_no_platform(helm: list[str]) -> None:
    objects = render(helm, "values-development.yaml")
    assert "sandbox" in of_kind(objects, "Deployment")
    for service in (set(CHANNELS) - {"youtube"}) | {"listener"}:
        rules = policy_of(objects, service)["spec"]["egress"]
        assert not any("ipBlock" in peer for rule in rules for peer in rule["to"]), service
    sandbox = [
        rule["ports"]
        for rule in policy_of(objects, "listener")["spec"]["egress"]
        for peer in rule["to"]
        if peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/component") == "sandbox"
    ]
    assert sandbox and S3 not in egress_ports(policy_of(objects, "listener"))


def test_the_archiver_runs_without_a_database_and_the_tracker_may_sign_exports(helm: list[str]) -> None:
    deployments = of_kind(render(helm, "values-existing-infra.yaml"), "Deployment")
    container = deployments["archive"]["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["python", "-m", "services.archive"]
    env = {e["name"]: e for e in container["env"]}
    assert env["LOA_KAFKA_SASL_USERNAME"]["value"] == "loa-archive"
    assert env["LOA_S3_ACCESS_KEY"]["value"] == "loa-archive"
    assert not any("DATABASE_URL" in name or name == "LOA_PG_RUNTIME_PASSWORD" for name in env)
    tracker = deployments["tracker"]["spec"]["template"]["spec"]["containers"][0]
    signing = {e["name"]: e for e in tracker["env"]}["LOA_ARCHIVE_SIGNING_KEY"]
    assert signing["valueFrom"]["secretKeyRef"]["optional"] is True  # exports answer 503 without it


def test_the_listener_runs_on_its_store_and_reads_the_publishers_accounts(helm: list[str]) -> None:
    listener = of_kind(render(helm, "values-existing-infra.yaml"), "Deployment")["listener"]
    assert listener["spec"]["replicas"] == 2  # SKIP LOCKED leases share the followed posts
    container = listener["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["python", "-m", "services.listener"]
    env = {e["name"]: e for e in container["env"]}
    assert env["LOA_KAFKA_SASL_USERNAME"]["value"] == "loa-listener"
    assert "/loa_listener" in env["LOA_LISTENER_DATABASE_URL"]["value"]
    assert env["LOA_PUBLISHER_DATABASE_URL"]["value"].startswith("postgresql+asyncpg://loa_listener:")
    assert "LOA_DATABASE_URL" not in env and "LOA_S3_ACCESS_KEY" not in env
    assert env["LOA_LISTENER_HOST"]["value"] == "0.0.0.0"
    assert "value" not in env["LOA_CREDENTIALS_KEY"]


@pytest.mark.parametrize("values", ["values-production.yaml", "values-development.yaml"])
def test_the_email_publisher_reaches_its_smtp_relay_and_no_platform(helm: list[str], values: str) -> None:
    objects = render(helm, values, "s3.port=9000")
    rules = policy_of(objects, "email")["spec"]["egress"]
    smtp = yaml.safe_load((CHART / values).read_text(encoding="utf-8"))["smtp"]
    assert egress_ports(policy_of(objects, "email")) == {DNS, KAFKA, POSTGRES, S3, smtp["port"]}
    relay = [r["to"] for r in rules if r["ports"] == [{"port": smtp["port"], "protocol": "TCP"}]]
    assert relay == [smtp["networkPeers"]]
    peers = [peer for rule in rules for peer in rule["to"]]
    assert not any(peer.get("ipBlock", {}).get("cidr") == "0.0.0.0/0" for peer in peers)  # platformPeers
    components = [
        p.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/component") for p in peers
    ]
    assert "sandbox" not in components
    # the relay's port is the email publisher's alone
    for service in set(SERVICES) - {"email"}:
        if service in of_kind(objects, "Deployment"):
            assert smtp["port"] not in egress_ports(policy_of(objects, service)), service
    env = {
        e["name"]: e
        for e in of_kind(objects, "Deployment")["email"]["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["LOA_EMAIL_SMTP_HOST"]["value"] == smtp["host"]
    assert env["LOA_EMAIL_SMTP_PORT"]["value"] == str(smtp["port"])
    assert env["LOA_EMAIL_SMTP_SECURITY"]["value"] == smtp["security"]


def test_the_dkim_key_is_a_reference_to_the_email_publishers_own_secret(helm: list[str]) -> None:
    deployments = of_kind(render(helm, "values-existing-infra.yaml"), "Deployment")
    env = {e["name"]: e for e in deployments["email"]["spec"]["template"]["spec"]["containers"][0]["env"]}
    key = env["LOA_EMAIL_DKIM_PRIVATE_KEY"]
    assert "value" not in key
    assert key["valueFrom"]["secretKeyRef"] == {"name": "loa-email", "key": "dkimPrivateKey"}
    for service in set(SERVICES) - {"email"}:
        names = {e["name"] for e in deployments[service]["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert not any(n.startswith("LOA_EMAIL_") for n in names), service


EMAIL_KEYS = ("kafkaPassword", "s3SecretKey", "pgPassword", "credentialsKey")  # all but the DKIM key
ARCHIVE_KEYS = ("kafkaPassword", "s3SecretKey")  # no database, no accounts (rendered before email)


@pytest.mark.parametrize(
    ("values", "settings", "named"),
    [
        ("values-production.yaml", ["smtp.host="], "smtp.host"),
        ("values-production.yaml", ["smtp.security=none"], "plain SMTP to smtp.example.gov.vn is refused"),
        ("values-production.yaml", ["smtp.security=ssl"], "smtp.security"),
        ("values-production.yaml", ["smtp.networkPeers=null"], "smtp.networkPeers"),
        ("values-development.yaml", ["smtp.host="], "smtp.host"),
        (
            "values-production.yaml",
            [
                "secrets.create=true",
                *(f"secrets.values.email.{k}=x" for k in EMAIL_KEYS),
                *(f"secrets.values.archive.{k}=x" for k in ARCHIVE_KEYS),
            ],
            "secrets.values.email.dkimPrivateKey",
        ),
    ],
)
def test_the_email_publisher_needs_a_relay_and_production_refuses_plain_smtp(
    helm: list[str], values: str, settings: list[str], named: str
) -> None:
    done = helm_template(helm, values, *settings)
    assert done.returncode != 0
    assert named in done.stderr


def test_plain_smtp_renders_to_a_relay_in_the_pod_or_without_the_email_publisher(helm: list[str]) -> None:
    local = render(
        helm, "values-production.yaml", "smtp.security=none", "smtp.host=127.0.0.1", "smtp.port=25"
    )
    assert 25 in egress_ports(policy_of(local, "email"))
    off = render(helm, "values-production.yaml", "smtp.host=", "services.email.enabled=false")
    assert "email" not in of_kind(off, "Deployment")


SENTINEL = "Bí-mật-Đà-Nẵng-{}-{}"


def _env(deployment: Obj) -> dict[str, Obj]:
    return {e["name"]: e for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}


def _peers(rules: list[Obj], side: str, port: int) -> list[str]:
    """The components a NetworkPolicy's ``from``/``to`` rules on ``port`` name by pod selector."""
    return [
        peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"]
        for rule in rules
        if port in {p["port"] for p in rule.get("ports", [])}
        for peer in rule[side]
        if "podSelector" in peer
    ]


def test_the_listener_reads_page_views_with_its_token_and_the_website_checks_it(helm: list[str]) -> None:
    """services/website/README.md, "Page views": the listener's token from its own Secret, the site's
    Service, the website's read of the tracker's token table with its own role, and the network
    paths between the two pods on the site's port only."""
    objects = render(helm, "values-existing-infra.yaml")
    deployments = of_kind(objects, "Deployment")
    site = chart_tables.SERVER_PORTS["website"]
    listener = _env(deployments["listener"])
    assert listener["LOA_WEBSITE_VIEWS_URL"]["value"] == f"http://loa-website:{site}"
    token = listener["LOA_WEBSITE_VIEWS_TOKEN"]
    assert "value" not in token and token["valueFrom"]["secretKeyRef"]["optional"] is True
    assert token["valueFrom"]["secretKeyRef"]["key"] == "websiteViewsToken"
    website = _env(deployments["website"])
    tokens_url = website["LOA_ACCESS_DATABASE_URL"]["value"]
    assert tokens_url.startswith("postgresql+asyncpg://loa_publisher:$(LOA_PG_RUNTIME_PASSWORD)@")
    assert (
        "/loa_tracker?ssl=require" in tokens_url
    )  # the other URLs' sslmode; where `loa tokens issue` writes (the audit log's)
    assert all("LOA_ACCESS_DATABASE_URL" not in _env(d) for n, d in deployments.items() if n != "website")
    website_in = policy_of(objects, "website")["spec"]["ingress"]
    assert _peers(website_in, "from", site) == ["listener"]
    assert _peers(policy_of(objects, "listener")["spec"]["egress"], "to", site) == ["website"]
    without_site = of_kind(
        render(helm, "values-existing-infra.yaml", "services.website.enabled=false"), "Deployment"
    )
    assert "LOA_WEBSITE_VIEWS_URL" not in _env(without_site["listener"])


def test_secrets_appear_only_in_each_services_own_secret(helm: list[str]) -> None:
    keys = (
        "kafkaPassword",
        "s3SecretKey",
        "pgPassword",
        "credentialsKey",
        "oidcClientSecret",
        "dkimPrivateKey",
        "archiveSigningKey",
        "websiteViewsToken",
    )
    sets = [
        "secrets.create=true",
        f"secrets.values.migrations.pgOwnerPassword={SENTINEL.format('migrations', 'pg')}",
    ]
    sets += [f"secrets.values.{s}.{k}={SENTINEL.format(s, k)}" for s in SERVICES for k in keys]
    objects = render(helm, "values-production.yaml", *sets)
    for obj in objects:
        text = yaml.safe_dump(obj, allow_unicode=True)
        if obj["kind"] == "Secret":
            owner = obj["metadata"]["name"].removeprefix("loa-")
            others = [s for s in (*SERVICES, "migrations") if s != owner and SENTINEL.format(s, "") in text]
            assert others == [], f"{obj['metadata']['name']} holds secrets of {others}"
        else:
            assert "Bí-mật" not in text, f"a secret in {obj['kind']} {obj['metadata']['name']}"
    secrets = {o["metadata"]["name"]: o["stringData"] for o in objects if o["kind"] == "Secret"}
    assert set(secrets["loa-tracker"]) == {
        "kafkaPassword",
        "s3SecretKey",  # it reads the archive for its export
        "pgPassword",
        "credentialsKey",
        "oidcClientSecret",
        "archiveSigningKey",  # signs the archive's exports
    }
    assert set(secrets["loa-ingest"]) == {"kafkaPassword", "s3SecretKey", "pgPassword"}
    assert set(secrets["loa-listener"]) == {
        "kafkaPassword",
        "pgPassword",
        "credentialsKey",
        "websiteViewsToken",
    }
    assert set(secrets["loa-archive"]) == {"kafkaPassword", "s3SecretKey"}  # no database, no accounts
    assert set(secrets["loa-email"]) == {
        "kafkaPassword",
        "s3SecretKey",
        "pgPassword",
        "credentialsKey",
        "dkimPrivateKey",
    }
    assert not any("dkimPrivateKey" in keys for name, keys in secrets.items() if name != "loa-email")


def test_a_missing_secret_fails_the_render_naming_it(helm: list[str]) -> None:
    done = helm_template(helm, "values.yaml", "secrets.create=true")
    assert done.returncode != 0
    assert "secrets.values.archive.kafkaPassword" in done.stderr  # the first service by name


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ("sandbox.enabled=true", "sandbox.enabled"),
        ("platformUrls.LOA_X_API_URL=http://loa-sandbox:8090/x", "platformUrls.LOA_X_API_URL"),
        (
            "platformUrls.LOA_FACEBOOK_GRAPH_URL=http://graph.facebook.com",
            "platformUrls.LOA_FACEBOOK_GRAPH_URL",
        ),
        ("website.baseUrl=http://127.0.0.1:8082", "website.baseUrl"),
    ],
)
def test_production_refuses_to_render_with_the_sandbox(helm: list[str], setting: str, named: str) -> None:
    done = helm_template(helm, "values-production.yaml", setting)
    assert done.returncode != 0
    assert named in done.stderr


def test_keda_scales_each_publisher_on_its_group_up_to_the_partition_count(helm: list[str]) -> None:
    objects = render(helm, "values-production.yaml", "kafka.partitions=24")
    scaled = {o["spec"]["scaleTargetRef"]["name"]: o for o in objects if o["kind"] == "ScaledObject"}
    assert set(scaled) == {f"loa-{c}" for c in CHANNELS}
    for channel in CHANNELS:
        spec = scaled[f"loa-{channel}"]["spec"]
        assert spec["maxReplicaCount"] == 24
        trigger = spec["triggers"][0]["metadata"]
        assert trigger["consumerGroup"] == publisher_group(channel)
        assert (trigger["sasl"], trigger["tls"]) == ("scram_sha512", "enable")
    deployments = of_kind(objects, "Deployment")
    assert "replicas" not in deployments["x"]["spec"]  # KEDA owns it
    assert deployments["tracker"]["spec"]["replicas"] == 2


def test_every_pod_runs_locked_down(helm: list[str]) -> None:
    objects = render(helm, "values-development.yaml")
    pods = [o["spec"]["template"]["spec"] for o in objects if o["kind"] in ("Deployment", "Job")]
    assert len(pods) == len(SERVICES) - 1 + 2  # youtube off; the sandbox and the migrations
    for pod in pods:
        assert pod["automountServiceAccountToken"] is False
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"] == {"drop": ["ALL"]}
    accounts = [o for o in objects if o["kind"] == "ServiceAccount"]
    assert accounts and all(a["automountServiceAccountToken"] is False for a in accounts)
    budgets = {o["metadata"]["name"] for o in objects if o["kind"] == "PodDisruptionBudget"}
    assert budgets == {f"loa-{s}" for s in SERVICES if s != "youtube"}


def test_probes_use_each_services_health_endpoints(helm: list[str]) -> None:
    deployments = of_kind(render(helm, "values.yaml"), "Deployment")
    ports = chart_tables.health_ports()
    for service in SERVICES:
        container = deployments[service]["spec"]["template"]["spec"]["containers"][0]
        health = next(p for p in container["ports"] if p["name"] == "health")
        assert health["containerPort"] == ports[service]
        assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_migrations_run_as_the_owner_before_install_and_upgrade(helm: list[str]) -> None:
    job = of_kind(render(helm, "values-existing-infra.yaml"), "Job")["migrations"]
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["python", "deploy/local/storage_users.py", "migrate"]
    owner = next(e for e in container["env"] if e["name"] == "LOA_PG_OWNER_PASSWORD")
    assert owner["valueFrom"]["secretKeyRef"] == {"name": "loa-pg-loa-owner", "key": "password"}


def test_the_migration_step_needs_only_the_owners_password(tmp_path: Path) -> None:
    """The hook has loa_owner's password and no superuser's: `migrate` must not ask for one."""
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": CHECKOUT_PYTHONPATH,
        "LOA_ENV_FILE": str(tmp_path / "absent.env"),
        "LOA_PG_HOST": "127.0.0.1",
        "LOA_PG_PORT": "1",  # nothing listens: the step gets as far as connecting
        "LOA_PG_OWNER_PASSWORD": "mật-khẩu-chủ-sở-hữu",
    }
    script = str(REPO_ROOT / "deploy/local/storage_users.py")
    done = subprocess.run([sys.executable, script, "migrate"], env=env, capture_output=True, text=True)
    assert done.returncode != 0
    assert "is not set" not in done.stderr
    assert "Connect" in done.stderr or "connect" in done.stderr
