"""A real S3-compatible server on 127.0.0.1 (moto's server mode) for the storage tests.

The server runs in a thread of the test process; its state lives in moto's in-process
backend, so stopping and restarting it on the same port keeps buckets and objects. That
is what the "server goes down during push/pull, then comes back" tests rely on.

Credentials and the endpoint go only into the environment of subprocesses (`env()`), never
into this process, and every variable that could send traffic to AWS or through a proxy is
neutralised.
"""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

DUMMY_KEY_ID = "testing-key-id"
DUMMY_SECRET = "testing-secret"
REGION = "us-east-1"

# Anything here would let a subprocess reach a real AWS account or a proxy.
_AWS_LEAKS = (
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class S3Server:
    """moto on a fixed free port, so it can be stopped and brought back at the same URL."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: ThreadedMotoServer | None = None
        # botocore wants config/credential files that exist: empty ones, so nothing leaks in.
        self._empty = Path(tempfile.mkdtemp(prefix="s3-server-")) / "empty"
        self._empty.write_text("")

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        if self._server is None:
            server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
            server.start()
            self._server = server

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """Environment for a subprocess that talks to this server (and nothing else)."""
        env = dict(os.environ if base is None else base)
        for name in _AWS_LEAKS:
            env.pop(name, None)
        env.update(
            {
                "AWS_ACCESS_KEY_ID": DUMMY_KEY_ID,
                "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET,
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
                "AWS_ENDPOINT_URL": self.url,
                "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_CONFIG_FILE": str(self._empty),
                "AWS_SHARED_CREDENTIALS_FILE": str(self._empty),
                "NO_PROXY": "127.0.0.1,localhost",
                "no_proxy": "127.0.0.1,localhost",
            }
        )
        return env

    def client(self):
        """A boto3 client bound to this server with explicit dummy credentials."""
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id=DUMMY_KEY_ID,
            aws_secret_access_key=DUMMY_SECRET,
            region_name=REGION,
        )

    def create_bucket(self, name: str | None = None) -> str:
        name = name or f"bucket-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def objects(self, bucket: str, prefix: str = "") -> dict[str, int]:
        """Every object under prefix: key -> size."""
        pages = (
            self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        )
        return {obj["Key"]: obj["Size"] for page in pages for obj in page.get("Contents", [])}


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """One moto server per test session (per xdist worker); tests use their own bucket."""
    server = S3Server()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> Iterator[str]:
    """A fresh bucket on a running server; a test that stopped the server gets it restarted."""
    s3_server.start()
    yield s3_server.create_bucket()
    s3_server.start()
