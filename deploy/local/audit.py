"""`make audit`: check the pinned packages (requirements.lock) against published advisories.

pip-audit asks an advisory source about every pinned version: OSV's API or PyPI's JSON API. Where
neither answers (a machine that reaches only a package index, as this project's development
machines do), pip-audit still exits 0 and prints "No known vulnerabilities found", having audited
nothing: each package is only *skipped*. This script reads pip-audit's JSON instead and says which
of three things is true, with its own exit code:

- 0 every package was audited and none has a known advisory;
- 1 some package has an advisory (listed, with the fixed versions);
- 2 no advisory source answered for some packages: they are named as NOT audited, never as safe.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

PIP_AUDIT = "pip-audit==2.10.1"
SOURCES = ("osv", "pypi")  # pip-audit's --vulnerability-service values, tried in this order
LOCK = Path(__file__).resolve().parents[2] / "requirements.lock"


@dataclass
class Verdict:
    source: str
    audited: int = 0
    skipped: list[str] = field(default_factory=list)
    advisories: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.advisories:
            return 1
        return 2 if self.skipped else 0


def verdict(source: str, report: dict[str, object]) -> Verdict:
    """What one pip-audit JSON report says (its format: pip-audit's `--format json`)."""
    result = Verdict(source)
    dependencies = report.get("dependencies", [])
    assert isinstance(dependencies, list)
    for dep in dependencies:
        if "skip_reason" in dep:
            result.skipped.append(dep["name"])
            continue
        result.audited += 1
        for vuln in dep.get("vulns", []):
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no fixed version"
            result.advisories.append(f"{dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixed})")
    return result


def run_pip_audit(source: str) -> Verdict | None:
    """pip-audit against one source; None when the source could not be reached at all."""
    command = ["uvx", "--quiet", "--from", PIP_AUDIT, "pip-audit", "--vulnerability-service", source]
    command += ["--requirement", str(LOCK), "--require-hashes", "--disable-pip", "--format", "json"]
    command += ["--progress-spinner", "off"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 (constants)
    try:
        return verdict(source, json.loads(done.stdout))
    except json.JSONDecodeError:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"audit: {source} not reachable: {last[:200]}")
        return None


def main() -> int:
    best: Verdict | None = None
    for source in SOURCES:
        found = run_pip_audit(source)
        if found is not None and (best is None or found.audited > best.audited):
            best = found
        if best is not None and best.exit_code != 2:
            break
    if best is None:
        print("audit: NOT DONE - no advisory source reachable from this machine (tried OSV, PyPI)")
        return 2
    for line in best.advisories:
        print(f"audit: ADVISORY {line}")
    if best.skipped:
        names = ", ".join(best.skipped[:8]) + (" ..." if len(best.skipped) > 8 else "")
        print(
            f"audit: {len(best.skipped)} of {best.audited + len(best.skipped)} packages NOT audited "
            f"(no answer from {best.source} for them): {names}"
        )
    if best.exit_code == 0:
        print(f"audit: {best.audited} packages audited against {best.source}: no known advisory")
    return best.exit_code


if __name__ == "__main__":
    sys.exit(main())
