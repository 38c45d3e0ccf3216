"""The PHP application's credential blobs (``tests/fixtures/php-credential-vectors.json``,
from shared/spec) and an independent reader and writer of their format: the openssl
CLI, the engine PHP's openssl_* calls use."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from pathlib import Path

VECTORS = json.loads(
    (Path(__file__).parent / "fixtures" / "php-credential-vectors.json").read_text()
)


def openssl_decrypt(blob: str, secret: str) -> bytes:
    """The spec's format read by the openssl CLI."""
    raw = base64.b64decode(blob)
    iv, inner = raw[:16], raw[16:]
    key = hashlib.sha256(secret.encode()).hexdigest()
    done = subprocess.run(
        ["openssl", "enc", "-d", "-aes-256-cbc", "-K", key, "-iv", iv.hex(), "-a", "-A"],
        input=inner,
        capture_output=True,
        check=True,
    )
    return done.stdout


def openssl_encrypt(plaintext: bytes, secret: str) -> str:
    iv = bytes(range(16))
    key = hashlib.sha256(secret.encode()).hexdigest()
    done = subprocess.run(
        ["openssl", "enc", "-aes-256-cbc", "-K", key, "-iv", iv.hex(), "-a", "-A"],
        input=plaintext,
        capture_output=True,
        check=True,
    )
    return base64.b64encode(iv + done.stdout.strip()).decode()
