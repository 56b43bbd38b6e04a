"""The appliance's own secret, generated once into the data directory.

Never a default in code: each installation has its own, readable by its owner only.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

SECRET_NAME = "secret.key"


def load_or_create(data_dir: Path) -> bytes:
    path = Path(data_dir) / SECRET_NAME
    try:
        # O_EXCL: two processes starting at once can't both write a different secret.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_bytes().strip()
        if len(secret) < 32:
            raise RuntimeError(
                f"{path} is damaged (too short); delete it to generate a new one (this signs out the owner)"
            ) from None
        return secret
    secret = secrets.token_hex(32).encode()
    with os.fdopen(fd, "wb") as fh:
        fh.write(secret)
        fh.flush()
        os.fsync(fh.fileno())
    return secret
