"""The live HTTP transport: a ``requests.Session`` with SAP logon, client and TLS settings.

Network failures are translated here, at the boundary: timeouts and connection errors become
RetriableError, TLS failures FatalError, each naming host and kind but never credentials.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

import requests

from sapbridge.config import SystemConfig
from sapbridge.errors import ConfigError, FatalError, RetriableError
from sapbridge.transport.base import ResponseLike

__all__ = ["LiveHttpConnection"]


class LiveHttpConnection:
    """Talks to one SAP system's ICM over HTTPS, keeping cookies (the CSRF session)."""

    def __init__(self, system: SystemConfig, password: str, *,
                 session: requests.Session | None = None) -> None:
        self.system = system
        self.session = session or requests.Session()
        self.session.auth = (system.user, password)
        self.session.verify = system.verify_tls
        self.session.headers.update({"Accept": "application/json", "sap-language": system.language})

    def request(self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
                params: Mapping[str, str] | None = None, data: bytes | str | None = None,
                timeout: float | None = None) -> ResponseLike:
        query = dict(params or {})
        if self.system.client:
            query.setdefault("sap-client", self.system.client)
        host = urlsplit(url).hostname or "?"
        where = f"{host}{urlsplit(url).path}"
        try:
            return self.session.request(method, url, headers=dict(headers or {}), params=query, data=data,
                                        timeout=(self.system.connect_timeout, timeout or self.system.timeout))
        except requests.exceptions.SSLError as exc:
            msg = f"TLS verification failed for {host}: {type(exc).__name__}"
            raise FatalError(msg) from None
        except requests.exceptions.ConnectTimeout:
            msg = f"timeout after {self.system.connect_timeout:g}s connecting to {host}"
            raise RetriableError(msg) from None
        except requests.exceptions.Timeout:
            msg = f"timeout after {timeout or self.system.timeout:g}s reading {where}"
            raise RetriableError(msg) from None
        except requests.exceptions.ConnectionError:
            msg = f"cannot connect to {host} ({where})"
            raise RetriableError(msg) from None
        except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema) as exc:
            msg = f"invalid SAP URL for system {self.system.name}: {exc}"
            raise ConfigError(msg) from None
