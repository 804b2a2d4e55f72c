"""App Service's managed-identity endpoint, issuing JWT-shaped tokens that Azurite's OAuth check
accepts, and a self-signed certificate for 127.0.0.1 (Azurite takes bearer tokens over HTTPS only).

With ``IDENTITY_ENDPOINT=<server.url>`` and any ``IDENTITY_HEADER`` in a process's environment,
azure-identity's DefaultAzureCredential gets its tokens here: the app's production path (no key,
no connection string) runs end to end against Azurite. The tokens are unsigned (Azurite's "basic"
level checks issuer, audience and lifetime only); ``server.requests`` holds each token request's
query (``resource``, ``client_id``) and identity header.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

TENANT = "00000000-0000-0000-0000-00000000c0de"


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def jwt_for(resource: str, *, lifetime_s: int = 3600, object_id: str = "mi-object-id") -> str:
    now = int(time.time())
    claims = {"aud": resource.rstrip("/"), "iss": f"https://sts.windows.net/{TENANT}/",
              "iat": now - 5, "nbf": now - 5, "exp": now + lifetime_s, "oid": object_id,
              "tid": TENANT}
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.fake-signature"


@dataclass
class ManagedIdentityServer:
    url: str
    requests: list[dict[str, str]] = field(default_factory=list)


@contextmanager
def managed_identity_server() -> Iterator[ManagedIdentityServer]:
    """``GET /msi/token?resource=...&api-version=2019-08-01`` as App Service answers it."""
    state = ManagedIdentityServer("")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
            query["identity_header"] = self.headers.get("X-IDENTITY-HEADER", "")
            state.requests.append(query)
            resource = query.get("resource", "")
            body = json.dumps({
                "access_token": jwt_for(resource), "expires_on": str(int(time.time()) + 3600),
                "resource": resource, "token_type": "Bearer",
            }).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/msi/token"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost (and its key), PEM files in ``folder``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return cert_path, key_path
