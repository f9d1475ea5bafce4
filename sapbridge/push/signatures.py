"""Signed approvals: ``ssh-keygen -Y sign`` / ``-Y verify`` over one reproducible message.

The message an approver signs (namespace ``sapbridge-approval``) is one line::

    sapbridge-approval batch=<batch id> content_hash=<sha256 hex> requester=<user> approver=<user>

so an auditor can rebuild it from the approval's audit entry with ``printf`` and check the
signature with ``ssh-keygen -Y verify`` alone (README, "Push"). Keys are the users'
``signing_key`` from the config, written to a temporary allowed-signers file per check.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from sapbridge.audit.log import query
from sapbridge.errors import ConfigError, ControlError
from sapbridge.push.authority import SIGNATURE_NAMESPACE, PushConfig, User, signature_required

__all__ = [
    "SignatureProblem",
    "SigningError",
    "allowed_signers",
    "approval_message",
    "sign_approval",
    "signature_valid",
    "verify_audit_approvals",
]

_TIMEOUT = 60
"""Seconds ssh-keygen may take (an agent may ask for a touch or a passphrase)."""


def approval_message(batch_id: str, content_hash: str, requester: str, approver: str) -> bytes:
    """The exact bytes an approval signature covers (see the module docstring)."""
    return (f"{SIGNATURE_NAMESPACE} batch={batch_id} content_hash={content_hash} "
            f"requester={requester} approver={approver}\n").encode()


def allowed_signers(config: PushConfig) -> str:
    """Every configured user's keys in ``ssh-keygen``'s allowed-signers format."""
    return "".join(f"{line}\n" for user in config.authority.users.values()
                   for line in user.allowed_signers)


def _ssh_keygen() -> str:
    found = shutil.which("ssh-keygen")
    if found is None:
        msg = "ssh-keygen not found: signed approvals need the OpenSSH client (openssh-client)"
        raise ConfigError(msg)
    return found


def _public_key(user: User) -> str:
    """The ``type base64`` of the user's first key (ssh-agent signs with the matching key)."""
    for line in user.allowed_signers:
        words = line.split()
        for i, word in enumerate(words[:-1]):
            if word.startswith(("ssh-", "ecdsa-", "sk-")):
                return f"{word} {words[i + 1]}"
    return ""


class SigningError(ControlError):
    """ssh-keygen could not sign; the message says why (no key, agent, passphrase)."""


def sign_approval(message: bytes, user: User, key_file: str | None = None) -> str:
    """Sign ``message`` as ``user`` with ``key_file`` (else theirs, else ssh-agent)."""
    key_file = key_file or user.signing_key_file
    with tempfile.TemporaryDirectory(prefix="sapbridge-sign-") as tmp:
        if key_file is None:
            public = _public_key(user)
            if not public:
                msg = f"{user.name} has no signing_key in the config"
                raise SigningError(msg)
            key_file = str(Path(tmp) / "key.pub")
            Path(key_file).write_text(public + "\n", encoding="utf-8")
        elif not Path(key_file).is_file():
            msg = f"signing key file {key_file} not found"
            raise SigningError(msg)
        done = subprocess.run(
            [_ssh_keygen(), "-Y", "sign", "-f", key_file, "-n", SIGNATURE_NAMESPACE],
            input=message, capture_output=True, timeout=_TIMEOUT, check=False)
    if done.returncode != 0 or b"BEGIN SSH SIGNATURE" not in done.stdout:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        msg = f"ssh-keygen could not sign: {reason[-1] if reason else 'no signature'}"
        raise SigningError(msg)
    return done.stdout.decode("ascii").strip() + "\n"


def signature_valid(message: bytes, signature: str | None, principal: str,
                    signers: str) -> bool:
    """True when ``ssh-keygen -Y verify`` accepts ``signature`` by ``principal``."""
    if not signature or not signers:
        return False
    with tempfile.TemporaryDirectory(prefix="sapbridge-verify-") as tmp:
        allowed = Path(tmp) / "allowed_signers"
        allowed.write_text(signers, encoding="utf-8")
        sig = Path(tmp) / "approval.sig"
        sig.write_text(signature, encoding="utf-8")
        done = subprocess.run(
            [_ssh_keygen(), "-Y", "verify", "-f", str(allowed), "-I", principal,
             "-n", SIGNATURE_NAMESPACE, "-s", str(sig)],
            input=message, capture_output=True, timeout=_TIMEOUT, check=False)
    return done.returncode == 0


@dataclass(frozen=True, slots=True)
class SignatureProblem:
    """An approval in the audit log whose signature is missing or does not verify."""

    seq: int
    batch_id: str
    approver: str
    reason: str


def _problems(engine: Engine, config: PushConfig) -> Iterator[SignatureProblem]:
    signers = allowed_signers(config)
    for entry in query(engine, action="approved"):
        detail = entry.detail or {}
        signature = detail.get("signature")
        batch_id = entry.batch_id or ""
        if not signature:
            if signature_required(config, entry.actor):
                yield SignatureProblem(entry.seq, batch_id, entry.actor,
                                       "unsigned, but the config requires a signature")
            continue
        user = config.authority.users.get(entry.actor)
        if user is None or not user.allowed_signers:
            yield SignatureProblem(entry.seq, batch_id, entry.actor,
                                   "signed, but this config has no signing_key for the approver to"
                                   " check it with (verify with the config the approvals were made under)")
            continue
        message = approval_message(batch_id, str(detail.get("content_hash", "")),
                                   str(detail.get("requester", "")), entry.actor)
        if not signature_valid(message, str(signature), entry.actor, signers):
            yield SignatureProblem(entry.seq, batch_id, entry.actor,
                                   "signature does not verify with the approver's key")


def verify_audit_approvals(engine: Engine, config: PushConfig) -> list[SignatureProblem]:
    """Re-verify the signature of every approval in the audit log (for ``audit verify``)."""
    return list(_problems(engine, config))
