"""The nginx template's headers (issue 32, point 1): a location with proxy_set_header lines of
its own inherits none of the server's, so each such location sets the client's address itself
(nginx's X-Real-IP is what the replicas count connections by, channels/webchat.py)."""

from __future__ import annotations

import re

from runtime.paths import DEPLOY


def locations(template: str) -> dict:
    """location → its directives (one level of braces: the template's locations are flat)."""
    found = {}
    template = re.sub(r"\{\{\w+\}\}", "FIELD", template)  # the fields cluster.py fills in
    for match in re.finditer(r"location\s+([^{]+)\{([^{}]*)\}", template):
        found[match.group(1).strip()] = match.group(2)
    return found


def test_every_location_with_its_own_proxy_headers_sets_the_client_address() -> None:
    template = (DEPLOY / "nginx.conf.template").read_text(encoding="utf-8")
    with_headers = {name: body for name, body in locations(template).items() if "proxy_set_header" in body}
    assert "/socket.io/" in with_headers
    for name, body in with_headers.items():
        assert re.search(r"proxy_set_header\s+X-Real-IP\s+\$remote_addr;", body), name
