"""The master key: from the config (base64) or from a key file created 0600 on first run.

The only module in ``dkim/`` that touches the file system, and only for this one small file.
File format: the base64 of 32 random octets and a newline. On first run the file is created
with O_EXCL and mode 0600, written, fsynced, and its directory fsynced: losing the master key
would make every sealed DKIM key unreadable. An existing file readable or writable by group or
others is refused (like ssh does with private keys).

SECURITY: the key bytes are never logged or put into an error message.
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
from collections.abc import Callable
from pathlib import Path

from postillon.dkim.errors import MasterKeyError
from postillon.dkim.keystore import MASTER_KEY_OCTETS, MasterKey

# Owner read/write only.
KEY_FILE_MODE = 0o600
# Any permission bit for group or others makes the file too open.
_TOO_OPEN = stat.S_IRWXG | stat.S_IRWXO
# A key file is one short line; refuse to read anything much larger.
_MAX_KEY_FILE_OCTETS = 256


def master_key_from_text(text: str, where: str) -> MasterKey:
    """Decode a base64 master key; ``where`` names the config key or file in errors."""
    try:
        material = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise MasterKeyError(f"{where}: not base64") from None
    if len(material) != MASTER_KEY_OCTETS:
        raise MasterKeyError(f"{where}: must decode to {MASTER_KEY_OCTETS} octets")
    return MasterKey(material)


def load_or_create_master_key(
    path: Path, random_bytes: Callable[[int], bytes] = os.urandom
) -> MasterKey:
    """Read the master key file at ``path``, creating it (0600) with a new key if absent.

    Raises :class:`MasterKeyError` if the file is too open, not a regular file, or malformed.
    """
    try:
        return _create(path, random_bytes)
    except FileExistsError:
        return _read(path)


def _create(path: Path, random_bytes: Callable[[int], bytes]) -> MasterKey:
    material = random_bytes(MASTER_KEY_OCTETS)
    key = MasterKey(material)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, KEY_FILE_MODE)
    try:
        os.fchmod(fd, KEY_FILE_MODE)  # the umask may have removed bits, never added: be exact
        os.write(fd, base64.b64encode(material) + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return key


def _read(path: Path) -> MasterKey:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        raise MasterKeyError(f"dkim master key file {path}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise MasterKeyError(f"dkim master key file {path}: not a regular file")
        if info.st_mode & _TOO_OPEN:
            raise MasterKeyError(
                f"dkim master key file {path}: mode {stat.S_IMODE(info.st_mode):o} is too open; "
                f"chmod {KEY_FILE_MODE:o} it"
            )
        data = os.read(fd, _MAX_KEY_FILE_OCTETS + 1)
    finally:
        os.close(fd)
    if len(data) > _MAX_KEY_FILE_OCTETS:
        raise MasterKeyError(f"dkim master key file {path}: too large for a key file")
    return master_key_from_text(data.decode("ascii", "replace"), f"dkim master key file {path}")
