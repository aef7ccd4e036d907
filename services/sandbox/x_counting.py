"""How the X emulator counts a post: with twitter-text 3.1.0 itself, the JavaScript reference X
publishes (npm), run by node; never with Loa's port of it (``services/x/twitter_text``), which the
emulator is there to check and so must not share.

One node process (``x_counting.js``) answers for the sandbox's life, one JSON line a text. The
package is the one the X counting tests compare Loa's port with (locked in
``tests/channels/x/oracle/``, installed under ``$LOA_CACHE_DIR/npm/`` by ``make setup``). Without
node or the package (a container, a machine without npm) the emulator takes posts of any length and
logs that once.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from loa.settings import REPO_ROOT

log = logging.getLogger(__name__)

MAX_WEIGHTED_LENGTH = 280
"""docs.x.com/fundamentals/counting-characters; twitter-text's ``version3`` configuration."""
SCRIPT = Path(__file__).with_name("x_counting.js")


def default_modules() -> Path:
    """The ``node_modules`` folder that holds twitter-text 3.1.0 (``make setup`` installs it)."""
    cache = Path(os.environ.get("LOA_CACHE_DIR", REPO_ROOT / ".loa"))
    return cache / "npm" / "twitter-text-3.1.0" / "node_modules"


@dataclass(frozen=True)
class Counted:
    weighted_length: int
    valid: bool
    """Within 280 and free of U+FFFE, U+FEFF and U+FFFF."""


class TwitterText:
    """twitter-text's ``parseTweet`` through one node process, started at the first text."""

    def __init__(self, modules: Path | None = None) -> None:
        self._modules = modules
        self._process: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()  # one text at a time on the pipe; callers run in threads
        self._missing: str | None = None

    def parse(self, text: str) -> Counted | None:
        """twitter-text's count of ``text``, or None when node or the package is missing."""
        with self._lock:
            process = self._running()
            if process is None or process.stdin is None or process.stdout is None:
                return None
            process.stdin.write(json.dumps(text) + "\n")
            process.stdin.flush()
            line = process.stdout.readline()
            if not line:
                self._process = None
                raise RuntimeError(f"twitter-text (node) stopped with code {process.wait()}")
        answer = json.loads(line)
        return Counted(answer["weightedLength"], answer["valid"])

    def _running(self) -> subprocess.Popen[str] | None:
        if self._process is not None and self._process.poll() is None:
            return self._process
        if self._missing is not None:
            return None
        node = shutil.which("node")
        modules = self._modules or default_modules()
        if node is None or not (modules / "twitter-text").is_dir():
            self._missing = "node is not installed" if node is None else f"{modules} has no twitter-text"
            log.warning("the X emulator does not count posts (%s): run `make setup`", self._missing)
            return None
        self._process = subprocess.Popen(  # noqa: S603 - node and our own script, no user input
            [node, str(SCRIPT), str(modules)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        return self._process


twitter_text = TwitterText()
