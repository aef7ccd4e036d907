"""A disposable second stack (Kafka, MinIO, PostgreSQL) that fault tests may stop and start.

The shared stack of ``tests/conftest.py`` serves every other test at once, so no test may stop it
(nor may ``bench/drill.py``, which runs on one of these).
A fault test starts its own components instead, with the same scripts (``deploy/local/<name>.sh``)
on free ports, in a temporary cache folder that borrows only the binaries (Kafka's jars, MinIO) of
the main cache. ``stop``/``start``/``kill`` act on the real processes.

    with PrivateStack.started(tmp_path, "kafka", "postgres") as ps:
        ps.stop("kafka"); ...; ps.start("kafka")
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from loa.settings import REPO_ROOT, LoaSettings
from loa.testing.ports import free_port

LOCAL = REPO_ROOT / "deploy" / "local"
COMPONENTS = ("postgres", "minio", "kafka")


def main_cache() -> Path:
    return Path(os.environ.get("LOA_CACHE_DIR", REPO_ROOT / ".loa")).resolve()


@dataclass
class PrivateStack:
    """Components of a second stack, each on its own free ports, in ``cache``."""

    cache: Path
    ports: dict[str, int] = field(default_factory=dict)
    test_broker: bool = True
    """Kafka as a test broker, quicker to start (C1 only, a class-data archive: ``LOA_KAFKA_TEST_BROKER``
    in deploy/local/kafka.sh); False for a benchmark's broker (the drill's), whose speed is measured."""

    @classmethod
    @contextmanager
    def started(cls, tmp: Path, *components: str, test_broker: bool = True) -> Iterator[PrivateStack]:
        """Start ``components`` (default: all three); stop every one of them at the end."""
        stack = cls.prepare(tmp, test_broker=test_broker)
        try:
            for name in components or COMPONENTS:
                stack.start(name)
            yield stack
        finally:
            for name in COMPONENTS:
                stack.run(name, "down", check=False)
            stack.remove_outside_data()

    def remove_outside_data(self) -> None:
        """Delete a PostgreSQL cluster that postgres.sh placed outside the cache (a temporary folder
        its system user cannot enter sends it to /var/lib/loa-pg/<hash>, linked from the cache)."""
        link = self.cache / "data" / "postgres"
        if link.is_symlink():
            shutil.rmtree(link.resolve(), ignore_errors=True)
            link.unlink()

    @classmethod
    def prepare(cls, tmp: Path, *, test_broker: bool = True) -> PrivateStack:
        cache = tmp / "stack"
        (cache / "bin").mkdir(parents=True, exist_ok=True)
        main = main_cache()
        minio = main / "bin" / "minio"
        if minio.exists() and not (cache / "bin" / "minio").exists():
            (cache / "bin" / "minio").symlink_to(minio)
            for stamp in (main / "bin").glob("minio.*"):
                (cache / "bin" / stamp.name).symlink_to(stamp)
        if (main / "kafka" / "libs").exists() and not (cache / "kafka").exists():
            (cache / "kafka").mkdir()
            (cache / "kafka" / "libs").symlink_to(main / "kafka" / "libs")
        if (main / "tls").exists() and not (cache / "tls").exists():
            (cache / "tls").symlink_to(main / "tls")  # one CA: the clients' LOA_KAFKA_SSL_CAFILE
        ports = {
            "LOA_KAFKA_PORT": free_port(),
            "LOA_KAFKA_CONTROLLER_PORT": free_port(),
            "LOA_MINIO_PORT": free_port(),
            "LOA_MINIO_CONSOLE_PORT": free_port(),
            "LOA_PG_PORT": free_port(),
        }
        return cls(cache=cache, ports=ports, test_broker=test_broker)

    def env(self) -> dict[str, str]:
        test_broker = "1" if self.test_broker else "0"
        env = dict(os.environ, LOA_CACHE_DIR=str(self.cache), LOA_KAFKA_TEST_BROKER=test_broker)
        env.update({k: str(v) for k, v in self.ports.items()})
        return env

    def run(self, component: str, action: str, *, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(  # noqa: S603 - our own script, a fixed component name
            ["bash", str(LOCAL / f"{component}.sh"), action],  # noqa: S607 - bash from PATH, as make does
            env=self.env(),
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"{component}.sh {action} failed:\n{done.stdout}\n{done.stderr}")
        return done

    def start(self, component: str) -> None:
        self.run(component, "up")

    def stop(self, component: str) -> None:
        """A clean stop (SIGTERM, as an operator or an orchestrator would)."""
        self.run(component, "down")

    def kill(self, component: str) -> None:
        """SIGKILL the component's server process (a crash); ``start`` brings it back."""
        os.kill(self._pid(component), signal.SIGKILL)

    def running(self, component: str) -> bool:
        """Whether the component's server process lives (``stop`` removes its pidfile)."""
        try:
            os.kill(self._pid(component), 0)
        except (OSError, ValueError):
            return False
        return True

    def _pid(self, component: str) -> int:
        return int((self.cache / "run" / f"{component}.pid").read_text().split()[0])

    # ---- where the components listen -------------------------------------------------------

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.ports['LOA_KAFKA_PORT']}"

    @property
    def s3_endpoint(self) -> str:
        return f"127.0.0.1:{self.ports['LOA_MINIO_PORT']}"

    @property
    def pg_admin_url(self) -> str:
        """libpq URL of the ``postgres`` database (the superuser ``loa``; its password: ``PGPASSWORD``,
        see ``loa.testing.admin``)."""
        return f"postgresql://loa@127.0.0.1:{self.ports['LOA_PG_PORT']}/postgres"

    def pg_url(self, database: str = "loa") -> str:
        """SQLAlchemy async URL of ``database`` (the scripts create ``loa``)."""
        return f"postgresql+asyncpg://loa@127.0.0.1:{self.ports['LOA_PG_PORT']}/{database}"

    def settings(self, base: LoaSettings) -> LoaSettings:
        """``base`` pointed at this stack's Kafka and MinIO (same credentials as the main stack)."""
        return base.model_copy(
            update={"kafka_bootstrap": self.kafka_bootstrap, "s3_endpoint": self.s3_endpoint}
        )
