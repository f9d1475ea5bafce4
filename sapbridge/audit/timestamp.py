"""RFC 3161 timestamps for anchors, from a Time-Stamping Authority (``[audit] tsa_url``).

Built on ``rfc3161-client`` (maintained, backed by ``cryptography``) rather than driving
``openssl ts``: no binary to find at run time, no text output to parse, and the same library
checks a token's signature chain against the CA file (``[audit] tsa_ca_file``).
A stored token is the TSA's whole DER response, so an auditor can also check it alone with
``openssl ts -verify -in TOKEN.tsr -data <anchor line> -CAfile ca.pem``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests
from cryptography import x509
from rfc3161_client import (
    HashAlgorithm,
    PKIStatus,
    TimestampRequestBuilder,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)
from rfc3161_client.tsp import TimeStampResponse

from sapbridge.errors import AuditError

__all__ = ["Timestamper", "check_token"]

_QUERY_TYPE = "application/timestamp-query"
_DIGESTS = {
    "2.16.840.1.101.3.4.2.1": hashlib.sha256,
    "2.16.840.1.101.3.4.2.2": hashlib.sha384,
    "2.16.840.1.101.3.4.2.3": hashlib.sha512,
}


def _decoded(token: bytes) -> TimeStampResponse | str:
    try:
        return decode_timestamp_response(token)
    except (ValueError, TypeError) as exc:
        return f"timestamp token is not an RFC 3161 response ({exc})"


@dataclass(frozen=True, slots=True)
class Timestamper:
    """A TSA to timestamp anchor lines, and the CA its tokens must chain to (optional)."""

    url: str
    ca_file: Path | None = None
    timeout: float = 10.0

    @property
    def shown_url(self) -> str:
        """The TSA URL without credentials or query, for messages."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}" \
            f"{parts.path}"

    def stamp(self, data: bytes) -> bytes:
        """The TSA's token (DER response) over SHA-256 of ``data``; AuditError when it fails."""
        request = TimestampRequestBuilder().data(data).hash_algorithm(HashAlgorithm.SHA256) \
            .nonce(nonce=True).cert_request(cert_request=True).build()
        try:
            reply = requests.post(self.url, data=request.as_bytes(), timeout=self.timeout,
                                  headers={"Content-Type": _QUERY_TYPE})
            reply.raise_for_status()
        except requests.RequestException as exc:
            msg = f"TSA {self.shown_url} did not answer: {type(exc).__name__}"
            raise AuditError(msg) from exc
        response = _decoded(reply.content)
        if isinstance(response, str):
            raise AuditError(f"TSA {self.shown_url}: {response}")
        if PKIStatus(response.status) not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
            msg = f"TSA {self.shown_url} refused the request (status {response.status})"
            raise AuditError(msg)
        if response.tst_info.nonce != request.nonce:
            raise AuditError(f"TSA {self.shown_url} answered with another request's nonce")
        problem = self.check(reply.content, data)
        if problem:
            raise AuditError(f"TSA {self.shown_url}: {problem}")
        return reply.content

    def check(self, token: bytes, data: bytes) -> str:
        """Why ``token`` does not timestamp ``data`` (or does not chain to the CA), or ''."""
        return check_token(token, data, ca_file=self.ca_file)


def check_token(token: bytes, data: bytes, *, ca_file: Path | None) -> str:
    """Why ``token`` does not timestamp ``data`` (or does not chain to ``ca_file``), or ''."""
    response = _decoded(token)
    if isinstance(response, str):
        return response
    imprint = response.tst_info.message_imprint
    digest = _DIGESTS.get(imprint.hash_algorithm.dotted_string)
    if digest is None:
        return f"timestamp token uses an unsupported hash ({imprint.hash_algorithm.dotted_string})"
    if imprint.message != digest(data).digest():
        return "timestamp token covers other data than the anchor line"
    if ca_file is None:
        return ""
    try:
        roots = x509.load_pem_x509_certificates(ca_file.read_bytes())
    except (OSError, ValueError) as exc:
        return f"cannot read TSA CA file {ca_file}: {exc}"
    builder = VerifierBuilder()
    for root in roots:
        builder = builder.add_root_certificate(root)
    try:
        builder.build().verify_message(response, data)
    except VerificationError as exc:
        return f"timestamp token does not verify against {ca_file}: {exc}"
    return ""
