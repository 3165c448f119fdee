"""Phone numbers and e-mail addresses: normalise, validate, mask (docs/checksums.md "Phone numbers");
client addresses as the per-client limits count them."""

from __future__ import annotations

import ipaddress
import re

_PHONE_STRIP = re.compile(r"[\s\-()]")
_MAINLAND_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")  # ASCII digits: \d would take any script's
_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]{1,64}@([A-Za-z0-9\-]{1,63}\.)+[A-Za-z]{2,63}$")


def normalize_phone(raw: str) -> str | None:
    """A mainland mobile number as E.164 (`+8613800000000`), or None when it is not one."""
    s = _PHONE_STRIP.sub("", raw or "")
    if s.startswith("+86"):
        s = s[3:]
    elif s.startswith("0086"):
        s = s[4:]
    if not _MAINLAND_MOBILE.match(s):
        return None
    return "+86" + s


def looks_like_phone(raw: str) -> bool:
    return normalize_phone(raw) is not None


def national(phone_e164: str) -> str:
    return phone_e164[3:] if phone_e164.startswith("+86") else phone_e164


def mask_phone(phone_e164: str) -> str:
    """`138****0000`."""
    n = national(phone_e164)
    return f"{n[:3]}****{n[-4:]}"


def normalize_email(raw: str) -> str | None:
    s = (raw or "").strip()
    if len(s) > 254 or not _EMAIL.match(s):
        return None
    local, _, domain = s.partition("@")
    return f"{local}@{domain.lower()}"


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    shown = local[:1] if len(local) <= 2 else local[:2]
    return f"{shown}***@{domain}"


def mask_login_name(name: str) -> str:
    """`al***ce` style: enough to recognise, not enough to use (REC-2)."""
    if "@" in name:
        return mask_email(name)
    if looks_like_phone(name):
        return mask_phone(normalize_phone(name) or name)
    if len(name) <= 2:
        return name[:1] + "*"
    if len(name) <= 4:
        return name[:1] + "**" + name[-1:]
    return name[:2] + "***" + name[-2:]


def client_network(client_ip: str | None) -> str:
    """One client for every per-address limit (sign-in throttles, code sends): an IPv4 address, or the
    /64 of an IPv6 address (a host picks any address in its /64 at will, so counting single IPv6
    addresses would let it rotate past every limit). An IPv4-mapped IPv6 address is its IPv4 address."""
    raw = (client_ip or "").strip()
    try:
        parsed = ipaddress.ip_address(raw)
    except ValueError:
        return raw[:64] or "unknown"
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)
