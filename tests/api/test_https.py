"""``hallq center`` serves HTTPS when given a key and a certificate (uvicorn's TLS).

A real process on a loopback port with a certificate made here for 127.0.0.1: the health
check answers over TLS to a client that trusts that certificate, a client that does not is
refused in the handshake, and plain HTTP on the same port gets no answer.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parents[2]
HALL = ROOT / "config" / "examples" / "township.toml"


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hallq test center")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_file, cert_file = directory / "center.key", directory / "center.crt"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_center_serves_https_with_the_given_certificate(tmp_path: Path) -> None:
    key_file, cert_file = _self_signed(tmp_path)
    port = _free_port()
    log = tmp_path / "center.log"
    env = {**os.environ, "HALLQ_DATABASE": f"sqlite:///{tmp_path / 'hall.db'}"}
    command = [
        sys.executable, "-m", "hallq.cli", "center", "--config", str(HALL),
        "--port", str(port), "--log-level", "warning",
        "--ssl-keyfile", str(key_file), "--ssl-certfile", str(cert_file),
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command,
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        trusting = ssl.create_default_context(cafile=str(cert_file))
        url = f"https://127.0.0.1:{port}/api/v1/health"
        deadline = time.monotonic() + 60
        while True:
            try:
                reply = httpx.get(url, verify=trusting, timeout=5)
                break
            except httpx.ConnectError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the center did not start:\n{log.read_text()}")
                time.sleep(0.2)
        assert reply.status_code == 200 and reply.json() == {"status": "ok"}
        assert reply.http_version == "HTTP/1.1"

        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(url, verify=ssl.create_default_context(), timeout=5)
        with pytest.raises(httpx.HTTPError):  # plain HTTP to the TLS port: no HTTP answer
            httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=5)
    finally:
        proc.terminate()
        proc.wait(10)
