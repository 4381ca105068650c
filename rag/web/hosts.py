"""Which Host names this server answers to, and who the client is behind a trusted proxy.

DNS rebinding: a page on `evil.example` whose name is re-pointed at 127.0.0.1 talks to a local
instance as a *same-origin* page (its Origin and Host both say evil.example), so the Origin check
cannot see it. The Host header can: only names this server was set up under are answered.

    hosts = HostPolicy("127.0.0.1", extra=["qa.example.com"])
    hosts.is_allowed("evil.example:7860")        # False
    ClientAddress(["10.0.0.0/8"]).resolve("10.0.0.2", "203.0.113.9, 10.0.0.7")   # '203.0.113.9'
"""

from __future__ import annotations

import ipaddress
import re
from typing import Sequence
from urllib.parse import urlsplit

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::"})
# what a Host header may hold: a DNS name or an IP (IPv6 in brackets) and a port; anything else
# ("a@b", spaces, slashes) is not a name a browser sends, and urlsplit would read it differently
_HOST_CHARS = re.compile(r"^[a-z0-9.\-]+(:\d{1,5})?$|^\[[0-9a-f:.]+\](:\d{1,5})?$")


def host_name(value: str) -> str | None:
    """'Example.COM:7860' -> 'example.com', '[::1]:7860' -> '::1', 'http://a.b:1/' -> 'a.b'; None if malformed."""
    text = value.strip().lower()
    if "://" in text:
        text = urlsplit(text).netloc
    if not _HOST_CHARS.match(text):
        return None
    name = urlsplit(f"//{text}").hostname
    if not name:
        return None
    return _canonical_ip(name) or name.rstrip(".")


def _canonical_ip(name: str) -> str | None:
    """'0:0::1' -> '::1' (one spelling per address), None for a DNS name."""
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        return None


def _is_ip(name: str) -> bool:
    return _canonical_ip(name) is not None


class HostPolicy:
    """The bound address, localhost, 127.0.0.1, [::1], the public URL's host and the listed names.

    Bound to a wildcard address (0.0.0.0 / ::) the server is reached by its own IP addresses, and an
    IP literal cannot be rebound, so any IP is answered then; names still have to be listed.
    An entry ".example.com" matches example.com and its subdomains; "*" turns the check off.
    """

    def __init__(self, bound_host: str, extra: Sequence[str] = (), public_url: str | None = None) -> None:
        self.allow_any = any(e.strip() == "*" for e in extra)
        self.any_ip = bound_host.strip() in WILDCARD_BINDS
        names = set(LOOPBACK_NAMES)
        for entry in [bound_host, public_url or "", *extra]:
            if entry.strip() in WILDCARD_BINDS or entry.strip() == "*":
                continue
            suffix = entry.strip().startswith(".")
            name = _canonical_ip(entry.strip()) or host_name(entry.strip().lstrip("."))
            if name is None:
                raise ValueError(f"not a host name: {entry!r}")
            names.add("." + name if suffix else name)
        self.names = frozenset(n for n in names if not n.startswith("."))
        self.suffixes = tuple(n for n in names if n.startswith("."))

    def is_allowed(self, host_header: str | None) -> bool:
        """A request without a Host header, or with a malformed one, is refused too."""
        if self.allow_any:
            return True
        name = host_name(host_header) if host_header else None
        if name is None:
            return False
        if name in self.names or (self.any_ip and _is_ip(name)):
            return True
        return any(name == s[1:] or name.endswith(s) for s in self.suffixes)


def _address(hop: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An X-Forwarded-For entry: '203.0.113.9', '203.0.113.9:5000', '[2001:db8::1]:80'."""
    hop = hop.strip()
    for candidate in (hop, urlsplit(f"//{hop}").hostname or ""):
        try:
            return ipaddress.ip_address(candidate)
        except ValueError:
            continue
    return None


class ClientAddress:
    """The client's address: the peer's, unless the peer is a trusted proxy that says whom it forwards.

    X-Forwarded-For is read right to left (each proxy appends the address it saw) and the first hop
    that is not a trusted proxy is the client: whatever a client writes into the header itself sits
    further left and is never reached. From an untrusted peer the header is ignored entirely.
    """

    def __init__(self, trusted_proxies: Sequence[str] = ()) -> None:
        self.networks = tuple(ipaddress.ip_network(p.strip(), strict=False) for p in trusted_proxies if p.strip())

    def _trusted(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
        return address is not None and any(address in net for net in self.networks)

    def resolve(self, peer: str, forwarded_for: str | None) -> str:
        if not forwarded_for or not self.networks or not self._trusted(_address(peer)):
            return peer
        hops = [h for h in forwarded_for.split(",") if h.strip()]
        for hop in reversed(hops):
            address = _address(hop)
            if address is None:  # a trusted proxy writes addresses: a malformed hop is not evidence
                return peer
            if not self._trusted(address):
                return str(address)
        return str(_address(hops[0])) if hops else peer
