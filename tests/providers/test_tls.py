"""HTTPS to a provider, through the real SDKs in a real `parley run`: the server's certificate
is checked against SSL_CERT_FILE when it is set (a company's own CA), and a certificate nobody
vouches for is refused with a clear error."""

from __future__ import annotations

import json
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.providers.conftest import provider_env
from tests.providers.fake_server import FakeServer, Reply
from tests.providers.test_cli_run import parley_run
from tests.providers.wire import Anthropic, Text, Tokens


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A self-signed certificate for 127.0.0.1 (its key beside it, as key.pem)."""
    where = tmp_path_factory.mktemp("tls")
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(where / "key.pem"), "-out", str(where / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return where / "cert.pem"


@pytest.fixture
def https_server(certificate: Path) -> Iterator[FakeServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, certificate.with_name("key.pem"))
    fake = FakeServer(tls=context).start()
    yield fake
    fake.stop()


def test_a_provider_behind_a_private_ca_is_reached_with_ssl_cert_file(
    https_server: FakeServer, certificate: Path, tmp_path: Path
) -> None:
    reply = Anthropic.reply(Text("Over TLS."), tokens=Tokens(input=10, output=3))
    https_server.script(Reply(events=tuple(reply)))
    env, _ = provider_env("anthropic", https_server)
    env["SSL_CERT_FILE"] = str(certificate)
    done = parley_run(tmp_path, env, "hi", "--provider", "anthropic", "--output", "json", "-n")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["reply"] == "Over TLS."
    assert https_server.url.startswith("https://")


def test_a_certificate_nobody_vouches_for_is_refused_clearly(
    https_server: FakeServer, tmp_path: Path
) -> None:
    env, _ = provider_env("anthropic", https_server)
    done = parley_run(tmp_path, env, "hi", "--provider", "anthropic", "--output", "json", "-n")
    assert done.returncode == 1
    error = json.loads(done.stdout)["error"]
    assert "Traceback" not in done.stderr
    assert https_server.requests == []  # refused before anything was sent
    assert "certificate" in error["message"].lower(), error
