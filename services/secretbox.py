"""Secrets that must be read back (TOTP seeds) are stored encrypted: Fernet (AES-128-CBC + HMAC)
with a key derived from SECRET_KEY by HKDF, so rotating SECRET_KEY is the one knob."""

from __future__ import annotations

import base64
from functools import cache

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


@cache
def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"account-center secretbox v1").derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret_key: str, plaintext: str) -> str:
    return _fernet(secret_key).encrypt(plaintext.encode()).decode()


def open_sealed(secret_key: str, token: str) -> str:
    return _fernet(secret_key).decrypt(token.encode()).decode()
