"""What the two security test modules share: the secrets they plant, the hostile file names
they try, and the checks that a secret never shows and a saved upload stays in its folder."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from index.folders import SUPPORTED

API_KEY = f"sk-test-SECRET-{secrets.token_hex(8)}"
CHROMA_TOKEN = f"chroma-SECRET-{secrets.token_hex(8)}"
CHROMA_HEADER = f"X-Chroma-Token: {CHROMA_TOKEN}"
USER, PASSWORD = "ann", "pass:word-1"  # a colon inside the password is allowed
SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
HOSTILE_NAMES = ["../../etc/passwd.txt", "..\\..\\x.txt", "/abs/path.txt", "C:\\Win\\x.md",
                 "a\x00b.txt", "x.txt\x00.html", "．．／．．／etc／passwd.txt", "\u202eevil.txt",
                 "～/.bashrc.md", ".hidden.txt", "..", "../", "a/..", "y" * 300 + ".txt",
                 "\u0430\u0440ple.json", "name with spaces (1).jsonl"]
NO_AUTH_REFUSAL = ("assistant: --host 0.0.0.0 shares the UI (and uploads) with the network — add "
                   "--auth user:password, or --no-auth to share it without a password")


def assert_no_secret(text: str, where: str) -> None:
    assert API_KEY not in text, f"the LLM API key appears in {where}"
    assert CHROMA_TOKEN not in text, f"the Chroma auth header appears in {where}"


def assert_safe(name: str | None, folder: Path) -> None:
    """``name`` (a sanitised upload name, or None: refused) is plain and stays in ``folder``."""
    if name is None:
        return
    assert SAFE.fullmatch(name), name
    assert Path(name).suffix.lower() in SUPPORTED and len(name) <= 130
    assert (folder / name).resolve().parent == folder.resolve()


def tree(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}
