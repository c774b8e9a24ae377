"""The programme's signing key: an Ed25519 private key kept as a JWK file on the server.

``lms keys create`` writes it (``create``); the credential pages read it (``load``). Its key
id is the RFC 7638 thumbprint of the public key, so anyone can recompute it from the public
key published in the JWK Set.

- The file is created with permissions 0600 and appears whole or not at all: the key is
  written to a private temporary file first, then hard-linked into place, which fails if a
  key is already there. Two ``lms keys create`` run at once give one key and one refusal.
- ``force`` replaces an existing key atomically (``os.replace``). Credentials signed with the
  old key stop verifying: the caller says so.
- Without a key nothing is signed; every other page works as before.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from flask import Flask

KEY_FILE_NAME = "lms-issuer-key.jwk"
ALGORITHM = "EdDSA"  # JWS "alg" for Ed25519 (RFC 8037), what verifiers accept today


class SigningKeyError(RuntimeError):
    """The key file cannot be used (unreadable, not an Ed25519 JWK, or its halves differ)."""


class KeyExists(SigningKeyError):
    """A key is already there and replacing it was not asked for."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def thumbprint(public_jwk: dict[str, Any]) -> str:
    """RFC 7638: SHA-256 of the required members of an OKP key, sorted, without spaces."""
    required = {name: public_jwk[name] for name in ("crv", "kty", "x")}
    canonical = json.dumps(required, sort_keys=True, separators=(",", ":"))
    return b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


@dataclass(frozen=True)
class IssuerKey:
    kid: str
    public_jwk: dict[str, Any] = field(repr=False)
    private_jwk: dict[str, Any] = field(repr=False)


def _from_private(private: Ed25519PrivateKey) -> IssuerKey:
    d = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    x = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    public = {"kty": "OKP", "crv": "Ed25519", "x": b64url(x)}
    kid = thumbprint(public)
    public = {**public, "kid": kid, "alg": ALGORITHM, "use": "sig"}
    return IssuerKey(kid=kid, public_jwk=public, private_jwk={**public, "d": b64url(d)})


def key_file(app: Flask) -> Path:
    """Where this app keeps its key: ``LMS_ISSUER_KEY_FILE``, else the instance folder."""
    configured = app.config.get("LMS_ISSUER_KEY_FILE")
    if configured:
        return Path(configured)
    return Path(app.instance_path) / KEY_FILE_NAME


def create(path: Path, *, force: bool = False) -> tuple[IssuerKey, IssuerKey | None]:
    """Generate a key and write it to ``path``. Returns the new key and, with ``force``, the
    one it replaced (None if there was none). Raises ``KeyExists`` without ``force``."""
    path = Path(path)
    if path.exists() and not force:
        raise KeyExists(_exists_message(path))
    old: IssuerKey | None = None
    if force:
        with contextlib.suppress(FileNotFoundError, SigningKeyError):
            old = _read(path)
    key = _from_private(Ed25519PrivateKey.generate())
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(key.private_jwk, indent=2) + "\n"
    # A private file of our own first, so the key never sits half-written under its name.
    handle, temporary = tempfile.mkstemp(prefix=".lms-key-", dir=path.parent)
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        if force:
            os.replace(temporary, path)
        else:
            try:
                os.link(temporary, path)  # atomic, and refuses an existing name
            except FileExistsError:
                raise KeyExists(_exists_message(path)) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    _cache.clear()
    return key, old


def _exists_message(path: Path) -> str:
    return (f"{path} already holds a signing key. Keep it: credentials already issued verify "
            "only with it. To replace it anyway, run `lms keys create --force`.")


# (path, inode, size, modification time) -> key: the file is read again only when it changes.
_cache: dict[tuple[str, int, int, int], IssuerKey] = {}


def load(path: Path) -> IssuerKey | None:
    """The key in ``path``, or None if there is no file. Raises ``SigningKeyError`` for a
    file that is not a usable Ed25519 private JWK."""
    path = Path(path)
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SigningKeyError(f"Cannot read the signing key {path}: {exc.strerror}") from exc
    signature = (str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns)
    found = _cache.get(signature)
    if found is None:
        try:
            found = _read(path)
        except FileNotFoundError:
            return None
        _cache.clear()
        _cache[signature] = found
    return found


def _read(path: Path) -> IssuerKey:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SigningKeyError(f"The signing key {path} is not a readable JWK file.") from exc
    if not isinstance(data, dict) or data.get("kty") != "OKP" or \
            data.get("crv") != "Ed25519" or not isinstance(data.get("d"), str) or \
            not isinstance(data.get("x"), str):
        raise SigningKeyError(f"The signing key {path} is not an Ed25519 private JWK.")
    try:
        private = Ed25519PrivateKey.from_private_bytes(_b64url_decode(data["d"]))
    except ValueError as exc:
        raise SigningKeyError(f"The signing key {path} has an invalid private part.") from exc
    key = _from_private(private)
    if key.public_jwk["x"] != data["x"]:
        raise SigningKeyError(f"The signing key {path} has a public part that does not match "
                              "its private part.")
    return key
