"""``python -m services.sandbox``: serve the emulators on 127.0.0.1:8090."""

from __future__ import annotations

import os

import uvicorn

if __name__ == "__main__":
    uvicorn.run(
        "services.sandbox.app:app",
        host=os.environ.get("LOA_SANDBOX_HOST", "127.0.0.1"),
        port=int(os.environ.get("LOA_SANDBOX_PORT", "8090")),
        log_level="warning",
    )
