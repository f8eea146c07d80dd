"""A throwaway certificate authority for sandboxes that must speak HTTPS.

Some SDKs (simple-salesforce) hard-code ``https://``, so their sandbox serves TLS
with a certificate from a CA made on the spot by ``trustme``. The CA's PEM bundle
is written to a file in a private temporary directory: clients trust it through
``verify=<path>`` (requests) or an env var such as ``SALESFORCE_CA_BUNDLE``.
"""

from __future__ import annotations

import shutil
import ssl
import tempfile
from pathlib import Path

import trustme

#: names every sandbox certificate covers, whatever address the server binds
_LOCAL_NAMES = ("127.0.0.1", "localhost", "::1")


class ThrowawayCA:
    """A fresh CA, a server certificate for local names (plus ``hosts``) and the bundle file."""

    def __init__(self, hosts: tuple[str, ...] = ()) -> None:
        self._authority = trustme.CA(organization_name="Handoff sandbox")
        names = tuple(dict.fromkeys((*_LOCAL_NAMES, *(h for h in hosts if h not in ("", "0.0.0.0", "::")))))
        self._certificate = self._authority.issue_cert(*names)
        self._dir = Path(tempfile.mkdtemp(prefix="handoff-sandbox-ca-"))
        self.bundle_path = self._dir / "ca.pem"
        self._authority.cert_pem.write_to_path(str(self.bundle_path))

    def server_context(self) -> ssl.SSLContext:
        """A server-side context presenting the certificate (TLS 1.2+)."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._certificate.configure_cert(context)
        return context

    def cleanup(self) -> None:
        """Delete the bundle file and its directory (clients can no longer load it)."""
        shutil.rmtree(self._dir, ignore_errors=True)
