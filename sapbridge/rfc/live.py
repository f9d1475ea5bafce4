"""The live RFC transport over pyrfc, imported only when an RFC route is used.

pyrfc needs SAP's NW RFC SDK, which SAP does not let us redistribute: install the SDK, then
``pip install 'sapbridge[rfc]'``. pyrfc's exceptions are translated here by class name, so the
translation is tested without the SDK.
"""

from __future__ import annotations

from typing import Any

from sapbridge.config import SystemConfig
from sapbridge.errors import (
    ConfigError,
    FatalError,
    SapAuthError,
    SapBusinessError,
    SapUnavailableError,
)

__all__ = ["LiveRfcConnection", "translate_rfc_error"]

INSTALL_HINT = ("the RFC route needs pyrfc and SAP's NW RFC SDK: install the SDK, then "
                "pip install 'sapbridge[rfc]'")


def translate_rfc_error(exc: Exception, function: str) -> Exception:
    """Our exception for a pyrfc one (matched by class name), without secrets."""
    kind = type(exc).__name__
    text = str(getattr(exc, "message", "") or exc).splitlines()[0][:300] if str(exc) else kind
    if kind == "CommunicationError":
        return SapUnavailableError(f"RFC communication failure calling {function}: {text}")
    if kind in {"LogonError", "ExternalAuthorizationError"}:
        return SapAuthError(f"RFC logon/authorisation refused calling {function}: {text}")
    if kind == "ABAPApplicationError":
        return SapBusinessError(f"{function} raised {getattr(exc, 'key', '') or text}",
                                function=function, messages=[{"TYPE": "E", "MESSAGE": text}])
    return FatalError(f"RFC {kind} calling {function}: {text}")


class LiveRfcConnection:
    """An RfcConnection over ``pyrfc.Connection``."""

    def __init__(self, system: SystemConfig, password: str) -> None:
        try:
            import pyrfc
        except ImportError:
            raise ConfigError(INSTALL_HINT) from None
        params = {k: v for k, v in system.rfc.items() if k != "passwd"}
        params.setdefault("client", system.client)
        params.setdefault("lang", system.language)
        try:
            self._connection = pyrfc.Connection(user=system.user, passwd=password, **params)
        except Exception as exc:  # noqa: BLE001 - pyrfc's classes exist only with the SDK
            raise translate_rfc_error(exc, "logon") from None

    def call(self, function: str, **params: Any) -> dict[str, Any]:
        try:
            result: dict[str, Any] = self._connection.call(function, **params)
        except Exception as exc:  # noqa: BLE001 - pyrfc's classes exist only with the SDK
            raise translate_rfc_error(exc, function) from None
        return result

    def close(self) -> None:
        """Close the RFC connection."""
        self._connection.close()
