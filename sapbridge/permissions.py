"""One rule for the files sapbridge writes: the process umask, as for any file a program creates.

Temporary folders and files (``mkdtemp``/``mkstemp``) are private (0700/0600); an output folder
renamed into place from one is given the permissions a plain ``mkdir``/``open`` would have had,
so a team share can read what a service account writes when its umask says so.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["apply_umask", "current_umask"]


def current_umask() -> int:
    """The process umask, read without changing it (Linux ``/proc``), else the usual 022."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def apply_umask(folder: Path) -> None:
    """Give ``folder``, its subfolders and files the modes the umask gives new ones."""
    mask = current_umask()
    folder.chmod(0o777 & ~mask)
    for path in folder.rglob("*"):
        path.chmod((0o777 if path.is_dir() else 0o666) & ~mask)
