"""A local certificate authority for the sandbox's TLS port (some SDKs insist on https).

google-api-python-client keeps ``https`` for resumable upload URLs whatever the configured
endpoint, so the sandbox also listens with TLS; clients trust the CA file written here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import trustme

from loa.files import write_private


@dataclass(frozen=True)
class TlsFiles:
    ca_pem: Path
    """The CA certificate clients trust (``httplib2.Http(ca_certs=...)``, ``verify=``)."""
    cert_pem: Path
    key_pem: Path


def write_tls_files(directory: Path, ca_file: Path | None = None) -> TlsFiles:
    """Issue a fresh CA and a server certificate for 127.0.0.1/localhost into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="Loa sandbox")
    server = ca.issue_cert("127.0.0.1", "localhost", "::1")
    files = TlsFiles(
        ca_pem=ca_file or directory / "sandbox-ca.pem",
        cert_pem=directory / "sandbox-cert.pem",
        key_pem=directory / "sandbox-key.pem",
    )
    files.ca_pem.parent.mkdir(parents=True, exist_ok=True)
    ca.cert_pem.write_to_path(str(files.ca_pem))
    server.cert_chain_pems[0].write_to_path(str(files.cert_pem))
    for extra in server.cert_chain_pems[1:]:
        extra.write_to_path(str(files.cert_pem), append=True)
    files.key_pem.unlink(missing_ok=True)
    write_private(files.key_pem, server.private_key_pem.bytes())
    return files
