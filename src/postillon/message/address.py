"""Email addresses: parsing, validation and normal form.

Owns :class:`Address` and :func:`parse_address` / :func:`make_address`: an optional display name
and an addr-spec whose local part is an RFC 5321 dot-atom or quoted-string (RFC 6531 allows UTF-8
in both; such an address needs SMTPUTF8; we refuse spaces, control, format and unassigned
characters in either form) and whose domain is stored as IDNA A-labels. Must not
format header fields (see :mod:`postillon.message.header_text`) and never does DNS.

SECURITY: CR, LF and NUL are refused anywhere in an address or display name, before any other
check, so no address can end a header line early (header injection).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import idna

from postillon.message.errors import AddressError

# RFC 5321 §4.5.3.1.1: a local part holds at most 64 octets.
MAX_LOCAL_PART_OCTETS = 64
# RFC 5321 §4.5.3.1.2: a domain holds at most 255 octets.
MAX_DOMAIN_OCTETS = 255
# RFC 1035 §2.3.4: a DNS label holds at most 63 octets.
MAX_LABEL_OCTETS = 63
# RFC 5321 §4.5.3.1.3: a path ("<" addr-spec ">") holds at most 256 octets, so 254 for addr-spec.
MAX_PATH_OCTETS = 256
MAX_ADDR_SPEC_OCTETS = MAX_PATH_OCTETS - 2
# Display names are ours to bound: a phrase longer than this is abuse, not a name.
MAX_DISPLAY_NAME_CHARS = 256

# Characters that could end a header line or a C string: header injection (RFC 5322 §2.2).
INJECTION_CHARS = frozenset("\r\n\x00")
_CONTROL_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})
# What a local part never holds, quoted or not (RFC 6531 §3.3 allows UTF-8, not every code
# point): controls (C0, C1 such as U+0085 NEL), format characters (U+202E RIGHT-TO-LEFT
# OVERRIDE, zero-width joiners: spoofing), line/paragraph separators (U+2028), every space
# (a space, legal inside quotes by RFC 5321 §4.1.2, breaks the RCPT path for many servers and
# for our own command writer), private-use, surrogate and unassigned code points.
_LOCAL_PART_REFUSED = frozenset({"Cc", "Cf", "Zl", "Zp", "Zs", "Co", "Cs", "Cn"})

# RFC 5322 §3.2.3 atext; RFC 6531 §3.3 adds every non-ASCII character (UTF8-non-ascii).
_ATEXT = re.compile(r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\U0010ffff]+")
# RFC 5321 §4.1.2 qtextSMTP (%d32-33 / %d35-91 / %d93-126), with RFC 6531 UTF8-non-ascii.
_QCONTENT = re.compile(r"(?:[ !#-\[\]-~\u0080-\U0010ffff]|\\[ -~])*")
# RFC 1035 §2.3.1 letter-digit-hyphen labels (A-labels are LDH too).
_LDH_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")


@dataclass(frozen=True, slots=True)
class Address:
    """A validated mailbox: ``local_part@domain`` with an optional display name.

    ``local_part`` is as written (quotes kept when quoted); ``domain`` is lower-case A-labels.
    """

    local_part: str
    domain: str
    display_name: str | None = None

    @property
    def addr_spec(self) -> str:
        """``local@domain``, the form used in SMTP paths and in header fields."""
        return f"{self.local_part}@{self.domain}"

    @property
    def needs_smtputf8(self) -> bool:
        """True when the local part is not ASCII (RFC 6531 §3.4: the SMTPUTF8 extension)."""
        return not self.local_part.isascii()

    @property
    def envelope_key(self) -> tuple[str, str]:
        """The key for recipient deduplication: local part exact, domain case-insensitive."""
        return (self.local_part, self.domain)


def contains_injection(text: str) -> bool:
    """True when ``text`` holds CR, LF or NUL."""
    return not INJECTION_CHARS.isdisjoint(text)


def has_control_chars(text: str) -> bool:
    """True when ``text`` holds a control character other than tab (Unicode Cc) or a line or
    paragraph separator (Zl, Zp), which some readers treat as a line break."""
    return any(unicodedata.category(char) in _CONTROL_CATEGORIES for char in text if char != "\t")


def parse_address(text: str) -> Address:
    """Parse ``"Name <local@domain>"``, ``"<local@domain>"`` or ``"local@domain"``.

    Raises :class:`AddressError` with the reason when the text is not one valid mailbox.
    """
    if contains_injection(text):
        raise AddressError("contains CR, LF or NUL (header injection)")
    stripped = text.strip()
    if stripped.endswith(">"):
        open_at = stripped.rfind("<")
        if open_at < 0:
            raise AddressError("'>' without a matching '<'")
        name = _parse_display_name(stripped[:open_at].strip())
        return make_address(stripped[open_at + 1 : -1], name)
    if "<" in stripped:
        raise AddressError("'<' without a matching '>'")
    return make_address(stripped, None)


def make_address(addr_spec: str, display_name: str | None) -> Address:
    """Validate a bare ``local@domain`` and an optional (unquoted, decoded) display name.

    Raises :class:`AddressError` when either is invalid.
    """
    if contains_injection(addr_spec) or (display_name and contains_injection(display_name)):
        raise AddressError("contains CR, LF or NUL (header injection)")
    name = check_display_name(display_name)
    addr_spec = addr_spec.strip(" \t")
    if not addr_spec:
        raise AddressError("is empty")
    at = addr_spec.rfind("@")
    if at < 0:
        raise AddressError("has no '@'")
    local, domain = addr_spec[:at], _to_a_labels(addr_spec[at + 1 :])
    _check_local_part(local)
    if len(f"{local}@{domain}".encode()) > MAX_ADDR_SPEC_OCTETS:
        raise AddressError(f"is longer than the {MAX_PATH_OCTETS}-octet SMTP path limit")
    return Address(local, domain, name)


def _parse_display_name(raw: str) -> str | None:
    """The display name as the user meant it: quotes removed and quoted-pairs undone."""
    if not raw:
        return None
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        inner = raw[1:-1]
        out: list[str] = []
        escaped = False
        for char in inner:
            if escaped:
                out.append(char)
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                raise AddressError("display name has an unescaped '\"' inside quotes")
            else:
                out.append(char)
        if escaped:
            raise AddressError("display name ends with a lone backslash")
        return "".join(out)
    if any(char in raw for char in '<>"'):
        raise AddressError("display name with '<', '>' or '\"' must be quoted")
    return raw


def check_display_name(name: str | None) -> str | None:
    """The display name stripped (None when blank); raises :class:`AddressError` if invalid."""
    if name is not None and contains_injection(name):
        raise AddressError("contains CR, LF or NUL (header injection)")
    if name is None:
        return None
    name = name.strip()
    if not name:
        return None
    if len(name) > MAX_DISPLAY_NAME_CHARS:
        raise AddressError(f"display name is longer than {MAX_DISPLAY_NAME_CHARS} characters")
    if has_control_chars(name):
        raise AddressError("display name has control characters")
    _check_encodable(name, "display name")
    return name


def _check_encodable(text: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise AddressError(f"{what} is not valid Unicode (lone surrogate)") from None


def _check_local_part(local: str) -> None:
    """RFC 5321 §4.1.2 Local-part = Dot-string / Quoted-string (RFC 6531: UTF-8 allowed)."""
    if not local:
        raise AddressError("local part is empty")
    _check_encodable(local, "local part")
    if len(local.encode()) > MAX_LOCAL_PART_OCTETS:
        raise AddressError(f"local part is longer than {MAX_LOCAL_PART_OCTETS} octets")
    if local.startswith('"'):
        _check_local_chars(local)
        if len(local) < 2 or not local.endswith('"') or not _QCONTENT.fullmatch(local[1:-1]):
            raise AddressError("local part is not a valid quoted-string")
        return
    if not all(_ATEXT.fullmatch(atom) for atom in local.split(".")):
        raise AddressError(
            "local part is not a dot-atom (no spaces or specials, no leading, trailing or "
            "double dots; quote it otherwise)"
        )
    _check_local_chars(local)


def _check_local_chars(local: str) -> None:
    refused = next((c for c in local if unicodedata.category(c) in _LOCAL_PART_REFUSED), None)
    if refused is not None:
        name = unicodedata.name(refused, "unnamed")
        raise AddressError(
            f"local part holds U+{ord(refused):04X} ({name.lower()}): spaces, control, format "
            "and unassigned characters are refused, quoted or not"
        )


def _to_a_labels(domain: str) -> str:
    """The domain as lower-case A-labels (IDNA2008 with UTS #46 mapping), checked for LDH."""
    if not domain:
        raise AddressError("domain is empty")
    if domain.startswith("["):
        raise AddressError("address literals are not accepted; use a domain name")
    _check_encodable(domain, "domain")
    if domain.isascii():
        ascii_domain = domain.lower()
    else:
        try:
            ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
        except idna.IDNAError as error:
            raise AddressError(f"domain is not a valid internationalized name: {error}") from None
    labels = ascii_domain.split(".")
    if len(labels) < 2:
        raise AddressError("domain needs at least two labels (a public name)")
    for label in labels:
        if not label or len(label) > MAX_LABEL_OCTETS or not _LDH_LABEL.fullmatch(label):
            raise AddressError(f"domain label {label!r} is not a valid host name label")
        if label.startswith("xn--"):
            try:
                idna.decode(label)
            except idna.IDNAError:
                raise AddressError(f"domain label {label!r} is not a valid A-label") from None
    if labels[-1].isdigit():
        raise AddressError("domain ends in a numeric label (an IP address is not a domain)")
    if len(ascii_domain) > MAX_DOMAIN_OCTETS:
        raise AddressError(f"domain is longer than {MAX_DOMAIN_OCTETS} octets")
    return ascii_domain
