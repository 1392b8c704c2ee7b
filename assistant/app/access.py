"""Who may reach the served UI: this machine by default, anyone else only with intent.

The UI lets its users ask, read every indexed article and upload files, so serving it
beyond loopback is a decision, not a default: a network address needs ``--auth
user:password``, or ``--no-auth`` to share it without a password on purpose (then a
warning goes to stderr). :func:`credentials` checks this before anything is built or served.
"""

from __future__ import annotations

import ipaddress
import sys

from assistant.kernel.errors import AssistantError


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` serves this machine only (127.0.0.0/8, ::1, localhost)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:  # any other name may resolve to a network address
        return False


def credentials(host: str, port: int, auth: str | None, no_auth: bool) -> tuple[str, str] | None:
    """The (user, password) the server asks for, or None; refuses a network ``host`` without
    ``auth`` unless ``no_auth``, and a malformed ``auth``."""
    if auth is not None:  # an empty --auth (an unset $PASS) must not mean "no password"
        user, sep, password = auth.partition(":")
        if not sep or not user or not password:
            raise AssistantError("--auth must look like user:password")
        return user, password
    if not is_loopback(host):
        if not no_auth:
            raise AssistantError(
                f"--host {host} shares the UI (and uploads) with the network — add --auth "
                "user:password, or --no-auth to share it without a password")
        print(f"assistant: WARNING: --no-auth — the UI on {host}:{port} is open to anyone who can "
              "reach it, with no password: they can ask, read the indexed articles and upload "
              "files", file=sys.stderr, flush=True)
    return None
