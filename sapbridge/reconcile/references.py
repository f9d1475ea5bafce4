"""Normalising document references as people and banks write them.

``INV-0090012345``, ``RI 90012345``, ``9OO12345`` (OCR) and ``90012345`` all name the same
invoice; :func:`normalise_reference` maps each to ``90012345`` so references compare equal.

Banks wrap remittance text (camt ``Ustrd`` at 140 characters, MT940 ``:86:`` lines and ``?20``-``?29``
subfields, BAI2 ``88`` continuation records) and customers group digits (``9001 7316``), so one
number can reach us in pieces; :func:`joined_candidates` offers the pieces joined back together,
to be believed only where the joined form is an open item.
"""

from __future__ import annotations

import re

__all__ = ["OCR_TO_DIGIT", "PREFIXES", "extract_candidates", "joined_candidates", "normalise_reference",
           "strip_amounts"]

PREFIXES = ("INVOICE", "INV", "RECHNUNG", "RE", "RI", "CM", "DOC", "REF", "NR", "NO")
"""Words stripped from the front of a reference (longest first when matching)."""

_PREFIX_RE = re.compile(r"^(?:" + "|".join(sorted(PREFIXES, key=len, reverse=True)) + r")(?=[\W_]*\d)")
_SEPARATORS = re.compile(r"[\s\-_/.,:#]+")
_OCR_TO_DIGIT = str.maketrans({"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "Z": "2",
                               "S": "5", "B": "8", "G": "6"})
OCR_TO_DIGIT = _OCR_TO_DIGIT
"""Letters OCR confuses with digits, as a ``str.translate`` table (O->0, I->1, S->5, B->8 ...)."""
_PREFIX_WORDS = "|".join(sorted(PREFIXES, key=len, reverse=True))
_TOKEN = re.compile(
    rf"(?i:\b(?:{_PREFIX_WORDS})\b)?[\s\-_/.#:]*\b[0-9][0-9OoIlSBZ\-_/.]{{2,}}[0-9OoIlSBZ]\b"
)


_AMOUNT = re.compile(
    r"(?:[$€£¥]|\b(?:EUR|USD|JPY|GBP|CHF|CAD|AUD)\b)\s?\d(?:[\d .,'\u00a0]*\d)?"
    r"|(?<![\w.,])\d{1,3}(?:[ .,'\u00a0]\d{3})+[.,]\d{1,2}(?![\d])"
    r"|(?<![\w.,])\d+[.,]\d{2}(?![\w.,])",
    re.IGNORECASE,
)


def strip_amounts(text: str) -> str:
    """Text with money amounts removed: ``1.234,56``, ``100 000,00``, ``$100 000``, ``EUR 99.50``.

    Thousand separators (space, dot, comma, apostrophe) would otherwise make an amount look like
    a document number once separators are dropped.
    """
    return _AMOUNT.sub("  ", text)


_DIGIT = re.compile(r"\d")


def _looks_numeric(token: str) -> bool:
    digits = sum(map(str.isdigit, token))
    return digits >= max(3, (len(token) * 2 + 2) // 3)


def normalise_reference(text: str | None) -> str:
    """Canonical form of a reference: upper case, no prefix, separators or leading zeros.

    Letters that OCR confuses with digits (O/0, I/1, S/5, B/8 ...) become digits when the token
    is mostly digits, so ``9OO12345`` equals ``90012345``; alphanumeric references keep letters.
    """
    if not text:
        return ""
    value = text.strip().upper()
    value = _PREFIX_RE.sub("", value)
    value = _SEPARATORS.sub("", value)
    if _looks_numeric(value):
        value = value.translate(_OCR_TO_DIGIT)
    if value.isdigit():
        value = value.lstrip("0") or "0"
    return value


def extract_candidates(text: str | None, *, min_length: int = 4, skip_amounts: bool = False) -> list[str]:
    """Normalised reference candidates found in free text (remittance lines, claim notes).

    Tokens shorter than ``min_length`` after normalisation are dropped (Odoo ignores tokens
    under four characters for the same reason: they match too much). Order follows the text;
    duplicates are removed. ``skip_amounts`` drops money amounts first (:func:`strip_amounts`).
    """
    if not text:
        return []
    if skip_amounts:
        text = strip_amounts(text)
    seen: dict[str, None] = {}
    for chunk in re.split(r"[,;|]+|\s{2,}", text):
        if not _DIGIT.search(chunk):
            continue  # without a digit nothing normalises to a reference
        for match in _TOKEN.finditer(chunk):
            value = normalise_reference(match.group(0))
            if len(value) >= min_length and any(ch.isdigit() for ch in value):
                seen.setdefault(value, None)
        for word in chunk.split():
            if not _DIGIT.search(word):
                continue
            value = normalise_reference(word)
            if len(value) >= min_length and any(ch.isdigit() for ch in value):
                seen.setdefault(value, None)
    return list(seen)


MAX_PIECES = 4
"""At most this many adjacent pieces are joined (``90 01 73 16`` is four)."""

_PIECE_SPLIT = re.compile(r"[\s,;|]+")
_PIECE = re.compile(r"^[\w\-/.#:]*\d[\w\-/.#:]*$")


def joined_candidates(text: str | None, *, min_length: int = 4) -> list[str]:
    """Normalised references made of 2 to :data:`MAX_PIECES` adjacent pieces of ``text``.

    A piece is a word with a digit; pieces are separated by spaces, line breaks, commas (BAI2
    joins continuation records with one) or semicolons, and a word without a digit (``of``)
    ends a run, so ``1 of 2`` joins nothing. Money amounts are dropped first. Only forms that no
    single piece already gives are returned: the caller must look them up and believe a hit only
    where it is an open item of the payer (a joined form is a guess until then).
    """
    if not text:
        return []
    pieces = _PIECE_SPLIT.split(strip_amounts(text))
    single = {normalise_reference(p) for p in pieces}
    found: dict[str, None] = {}
    for start, first in enumerate(pieces):
        if not _PIECE.match(first):
            continue
        joined = first
        for piece in pieces[start + 1:start + MAX_PIECES]:
            if not _PIECE.match(piece):
                break
            joined += piece
            value = normalise_reference(joined)
            if len(value) >= min_length and value not in single and any(ch.isdigit() for ch in value):
                found.setdefault(value, None)
    return list(found)
