"""Who may request and approve what: users, roles and limits from the config.

Sample configuration (also in ``examples/sapbridge.toml``)::

    [users.alice]                 # requests batches
    roles = ["ar_clerk"]
    os_user = "alice"             # OS login that acts as this user (default: the same name)

    [users.bob]
    roles = ["credit_manager"]
    signing_key = "ssh-ed25519 AAAA... bob@laptop"   # or a path to an allowed-signers file
    signing_key_file = "~/.ssh/id_ed25519"          # private key for signing (else ssh-agent)

    [users.carol]
    roles = ["controller"]

    [authority.ar_clerk]
    request = true                # may import batches

    [authority.credit_manager]
    currency = "EUR"              # limits below are in this currency; other currencies: none
    max_limit_increase = "50000"  # largest increase of one credit limit
    max_writeoff_item = "1000"    # largest write-off of one item
    max_writeoff_batch = "5000"   # largest write-off batch total
    max_release_order_value = "25000"  # largest sales order released from (or rejected at)
                                       # its credit block

    [authority.controller]
    currency = "EUR"
    max_limit_increase = "500000"
    max_writeoff_item = "25000"
    max_writeoff_batch = "100000"
    require_signature = true      # approvals by this role must be SSH-signed

    [push]
    identity = "os"               # "os": --as must map to your OS login (password database);
                                  # "declared": trust --as, and every approval must be signed
    second_approver_above = "10000"   # batch total (write-offs) or total increase (limits)
    writeoff_doc_type = "AB"
    release_route = "odata"       # credit-block releases: "odata" (API_SLS_DOC_WITH_CREDIT_BLOCK)
                                  # or "rfc" (the site's wrapper named in the release mapping)

    [push.reason_codes.SMALL]
    gl_account = "0000880000"     # G/L account the write-off is posted to
    text = "Small balance write-off"

Amounts are strings (or integers) so they stay exact Decimals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sapbridge.config import Settings, refuse_unknown, resolve_path
from sapbridge.errors import ConfigError
from sapbridge.money import D
from sapbridge.push.controls import RefusedError
from sapbridge.push.release_mapping import RELEASE_MAPPING, ReleaseMapping, load_release_mapping

__all__ = [
    "Authority",
    "BatchFacts",
    "PushConfig",
    "ReasonCode",
    "Role",
    "User",
    "approval_refusal",
    "load_push_config",
    "required_approvals",
    "resolve_actor",
    "signature_required",
]


@dataclass(frozen=True, slots=True)
class Role:
    """What one role may do; amounts in ``currency``."""

    name: str
    request: bool = False
    currency: str | None = None
    max_limit_increase: Decimal | None = None
    max_writeoff_item: Decimal | None = None
    max_writeoff_batch: Decimal | None = None
    max_release_order_value: Decimal | None = None
    require_signature: bool = False


@dataclass(frozen=True, slots=True)
class User:
    """A configured person; ``os_user`` is the login that acts as them.

    ``allowed_signers``: lines in ``ssh-keygen``'s allowed-signers format naming this user, from
    ``signing_key`` (a public key, or a path to an allowed-signers file); ``signing_key_file``:
    the private key ``approve`` signs with (None: ssh-agent).
    """

    name: str
    roles: tuple[str, ...]
    os_user: str
    allowed_signers: tuple[str, ...] = ()
    signing_key_file: str | None = None


@dataclass(frozen=True, slots=True)
class ReasonCode:
    """A write-off reason and the G/L account it posts to."""

    code: str
    gl_account: str
    text: str = ""


@dataclass(frozen=True, slots=True)
class Authority:
    """The authority matrix: users and roles."""

    users: Mapping[str, User]
    roles: Mapping[str, Role]

    def user(self, name: str) -> User | None:
        """The configured user called ``name``, if any."""
        return self.users.get(name)

    def roles_of(self, name: str) -> list[Role]:
        """The roles of a user (unknown role names were refused at load time)."""
        user = self.users.get(name)
        return [self.roles[r] for r in user.roles] if user else []

    def may_request(self, name: str) -> bool:
        """True when one of the user's roles may import batches."""
        return any(role.request for role in self.roles_of(name))


@dataclass(frozen=True, slots=True)
class PushConfig:
    """Everything the push component reads from ``[users]``, ``[authority]`` and ``[push]``."""

    authority: Authority
    identity: str = "os"
    second_approver_above: Decimal | None = None
    reason_codes: Mapping[str, ReasonCode] = field(default_factory=dict)
    writeoff_doc_type: str = "AB"
    release_route: str = "odata"
    releases: ReleaseMapping = field(default_factory=ReleaseMapping)


@dataclass(frozen=True, slots=True)
class BatchFacts:
    """The amounts of a batch that authority is measured against."""

    kind: str
    currency: str
    total: Decimal
    largest: Decimal


def _amount(raw: Any, where: str) -> Decimal | None:
    if raw is None:
        return None
    try:
        value = D(raw)
    except (TypeError, ValueError) as exc:
        msg = f"{where}: not an amount: {raw!r} (write amounts as strings)"
        raise ConfigError(msg) from exc
    if value < 0:
        msg = f"{where}: must not be negative"
        raise ConfigError(msg)
    return value


_ROLE_KEYS = {"request", "currency", "max_limit_increase", "max_writeoff_item",
              "max_writeoff_batch", "max_release_order_value", "require_signature"}
_USER_KEYS = {"roles", "os_user", "signing_key", "signing_key_file"}
_PUSH_KEYS = {"identity", "second_approver_above", "reason_codes", "writeoff_doc_type",
              "release_route"}


def _role(name: str, raw: Any) -> Role:
    if not isinstance(raw, dict):
        msg = f"[authority.{name}] must be a table"
        raise ConfigError(msg)
    refuse_unknown(raw, _ROLE_KEYS, f"[authority.{name}]")
    amounts = {k: _amount(raw.get(k), f"[authority.{name}] {k}") for k in _ROLE_KEYS
               if k.startswith("max_")}
    if any(v is not None for v in amounts.values()) and not raw.get("currency"):
        msg = f"[authority.{name}] needs a currency for its maximum amounts"
        raise ConfigError(msg)
    return Role(name=name, request=bool(raw.get("request", False)),
                currency=raw.get("currency"),
                require_signature=bool(raw.get("require_signature", False)), **amounts)


SIGNATURE_NAMESPACE = "sapbridge-approval"
"""The ``ssh-keygen -Y`` namespace of approval signatures (a signature for git or for a file
never passes as an approval)."""

_KEY_TYPES = ("ssh-", "ecdsa-", "sk-")


def _signer_lines(name: str, raw: Any, base: Path) -> tuple[str, ...]:
    """Allowed-signers lines for user ``name`` from ``signing_key``: a public key, the path of
    its ``.pub`` file, or the path of an allowed-signers file (relative to the config file)."""
    if raw is None:
        return ()
    text = str(raw).strip()
    if text.startswith(_KEY_TYPES):
        return (f'{name} namespaces="{SIGNATURE_NAMESPACE}" {text}',)
    path = resolve_path(text, base)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        msg = f"[users.{name}] signing_key: cannot read allowed-signers file {path} ({exc.strerror})"
        raise ConfigError(msg) from None
    keys = [line.strip() for line in lines if line.strip()]
    if len(keys) == 1 and keys[0].startswith(_KEY_TYPES):  # a public key file (ssh-keygen's .pub)
        return (f'{name} namespaces="{SIGNATURE_NAMESPACE}" {keys[0]}',)
    mine = tuple(line.strip() for line in lines
                 if line.strip() and not line.lstrip().startswith("#")
                 and name in line.split(maxsplit=1)[0].split(","))
    if not mine:
        msg = f"[users.{name}] signing_key: {path} has no line for principal {name}"
        raise ConfigError(msg)
    return mine


def _user(name: str, raw: Any, roles: Mapping[str, Role], base: Path) -> User:
    if not isinstance(raw, dict):
        msg = f"[users.{name}] must be a table"
        raise ConfigError(msg)
    refuse_unknown(raw, _USER_KEYS, f"[users.{name}]")
    names = raw.get("roles", [])
    if not isinstance(names, list) or not all(isinstance(r, str) for r in names):
        msg = f"[users.{name}] roles must be a list of role names"
        raise ConfigError(msg)
    for role in names:
        if role not in roles:
            msg = f"[users.{name}] names unknown role {role!r} (no [authority.{role}])"
            raise ConfigError(msg)
    key_file = raw.get("signing_key_file")
    return User(name=name, roles=tuple(names), os_user=str(raw.get("os_user", name)),
                allowed_signers=_signer_lines(name, raw.get("signing_key"), base),
                signing_key_file=str(resolve_path(key_file, base)) if key_file else None)


def _reason_codes(raw: Any) -> dict[str, ReasonCode]:
    codes: dict[str, ReasonCode] = {}
    for code, body in (raw or {}).items():
        if not isinstance(body, dict) or not body.get("gl_account"):
            msg = f"[push.reason_codes.{code}] needs gl_account"
            raise ConfigError(msg)
        refuse_unknown(body, {"gl_account", "text"}, f"[push.reason_codes.{code}]")
        codes[code] = ReasonCode(code, str(body["gl_account"]), str(body.get("text", "")))
    return codes


def _release_mapping_dir(settings: Settings) -> Path:
    """The first mappings folder of the search path (site first) that holds the release mapping."""
    search = settings.mapping_search_path()
    return next((folder for folder in search if (folder / RELEASE_MAPPING).is_file()), search[-1])


def load_push_config(settings: Settings) -> PushConfig:
    """Read and validate ``[users]``, ``[authority]``, ``[push]`` and ``[audit]``."""
    roles = {name: _role(name, raw) for name, raw in settings.section("authority").items()}
    users = {name: _user(name, raw, roles, settings.base_dir)
             for name, raw in settings.section("users").items()}
    push = settings.section("push")
    refuse_unknown(push, _PUSH_KEYS, "[push]")
    identity = str(push.get("identity", "os"))
    if identity not in {"os", "declared"}:
        msg = f"[push] identity must be 'os' or 'declared', not {identity!r}"
        raise ConfigError(msg)
    release_route = str(push.get("release_route", "odata"))
    if release_route not in {"odata", "rfc"}:
        msg = f"[push] release_route must be 'odata' or 'rfc', not {release_route!r}"
        raise ConfigError(msg)
    return PushConfig(
        authority=Authority(users=users, roles=roles),
        identity=identity,
        second_approver_above=_amount(push.get("second_approver_above"),
                                      "[push] second_approver_above"),
        reason_codes=_reason_codes(push.get("reason_codes")),
        writeoff_doc_type=str(push.get("writeoff_doc_type", "AB")),
        release_route=release_route,
        releases=load_release_mapping(_release_mapping_dir(settings)),
    )


def signature_required(config: PushConfig, approver: str) -> bool:
    """Approvals must be signed in ``declared`` mode, and by a role with ``require_signature``."""
    return config.identity == "declared" or any(
        role.require_signature for role in config.authority.roles_of(approver))


def required_approvals(config: PushConfig, facts: BatchFacts) -> int:
    """Two approvers above ``second_approver_above``, otherwise one."""
    threshold = config.second_approver_above
    return 2 if threshold is not None and facts.total > threshold else 1


def _role_covers(role: Role, facts: BatchFacts) -> bool:
    if role.currency != facts.currency:
        return False
    if facts.kind == "limits":
        return role.max_limit_increase is not None and facts.largest <= role.max_limit_increase
    if facts.kind == "releases":
        return (role.max_release_order_value is not None
                and facts.largest <= role.max_release_order_value)
    return (
        role.max_writeoff_item is not None
        and role.max_writeoff_batch is not None
        and facts.largest <= role.max_writeoff_item
        and facts.total <= role.max_writeoff_batch
    )


def approval_refusal(config: PushConfig, approver: str, facts: BatchFacts) -> str:
    """Why ``approver`` may not approve a batch with these facts, or '' when they may."""
    if config.authority.user(approver) is None:
        return f"{approver} is not a configured user"
    if any(_role_covers(role, facts) for role in config.authority.roles_of(approver)):
        return ""
    what, amounts = {
        "limits": ("largest increase", f"{facts.largest} {facts.currency}"),
        "releases": ("largest order value", f"{facts.largest} {facts.currency}"),
    }.get(facts.kind, ("largest item / batch total",
                       f"{facts.largest} / {facts.total} {facts.currency}"))
    return f"{approver} has no authority for this batch ({what} {amounts})"


def resolve_actor(config: PushConfig, declared: str | None, os_login: str) -> str:
    """The configured user acting now, from ``--as`` and the OS login.

    With ``identity = "os"`` (the default) ``--as`` may only name a user whose ``os_user`` is
    the current OS login; without ``--as`` the login must map to exactly one user. With
    ``identity = "declared"`` the declared name is trusted but must still be configured.
    """
    users = config.authority.users
    if declared is not None:
        user = users.get(declared)
        if user is None:
            msg = f"--as {declared}: not a configured user (see [users] in the config)"
            raise RefusedError(msg, control="identity")
        if config.identity == "os" and user.os_user != os_login:
            msg = f"--as {declared}: OS user {os_login} may not act as {declared}"
            raise RefusedError(msg, control="identity")
        return declared
    matches = [u.name for u in users.values() if u.os_user == os_login]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        msg = f"OS user {os_login} is not a configured user (see [users] in the config)"
    else:
        msg = f"OS user {os_login} maps to several users ({', '.join(matches)}); use --as"
    raise RefusedError(msg, control="identity")
