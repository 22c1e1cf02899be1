"""Which release of the portal is running, for the cache's key prefix.

A deploy names its release in ``RELEASE`` (a tag or commit); without it, the
release is a digest of everything that shapes the HTML the portal caches: the
Python code, templates and static files of the project, and the installed
packages' versions. Worked out once, at start-up.
"""

import hashlib
import os
import sys
from pathlib import Path

SOURCES = ("config", "home", "catalog", "templates", "static")


def release_version(base_dir: Path, environ=os.environ) -> str:
    if environ.get("RELEASE", "").strip():
        return environ["RELEASE"].strip()
    digest = hashlib.sha256()
    for top in SOURCES:
        for path in sorted((base_dir / top).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(base_dir).as_posix().encode() + b"\0")
                digest.update(path.read_bytes() + b"\0")
    # The installed packages' names and versions, from their metadata folders'
    # names (reading the metadata itself would double the start-up cost).
    packages = sorted(
        folder.name
        for entry in sys.path
        if entry and Path(entry).is_dir()
        for folder in Path(entry).glob("*.dist-info")
    )
    digest.update("\n".join(packages).encode())
    return digest.hexdigest()[:16]
