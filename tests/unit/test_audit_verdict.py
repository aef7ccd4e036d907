"""`make audit` never calls "not audited" safe.

The report shapes are pip-audit's `--format json` (pip-audit README, "JSON output"; a skipped
dependency carries `skip_reason`, as pip-audit 2.10.1 printed here for every package when PyPI's
JSON API did not answer).
"""

from deploy.local.audit import verdict

CLEAN = {"name": "httpx", "version": "0.28.1", "vulns": []}
VULNERABLE = {
    "name": "flask",
    "version": "0.5",
    "vulns": [{"id": "PYSEC-2019-179", "fix_versions": ["1.0"], "aliases": ["CVE-2019-1010083"]}],
}
SKIPPED = {"name": "tweepy", "skip_reason": "Dependency not found on PyPI and could not be audited: tweepy"}


def test_all_audited_and_clean_passes() -> None:
    result = verdict("pypi", {"dependencies": [CLEAN], "fixes": []})
    assert (result.exit_code, result.audited, result.skipped) == (0, 1, [])


def test_an_advisory_fails_and_names_the_fix() -> None:
    result = verdict("pypi", {"dependencies": [CLEAN, VULNERABLE, SKIPPED], "fixes": []})
    assert result.exit_code == 1
    assert result.advisories == ["flask 0.5: PYSEC-2019-179 (fixed in 1.0)"]


def test_skipped_packages_are_not_audited_rather_than_safe() -> None:
    # pip-audit itself exits 0 with "No known vulnerabilities found" for this report.
    result = verdict("pypi", {"dependencies": [SKIPPED, CLEAN], "fixes": []})
    assert result.exit_code == 2
    assert result.skipped == ["tweepy"]
