"""DKIM (RFC 6376, RFC 8463): canonicalization, signing, key generation and DNS records.

Modules: ``canonical`` (RFC 6376 §3.4), ``fields`` (header section split, line limit),
``signer`` (DKIM-Signature fields), ``keys`` (RSA/Ed25519 keys, TXT records), ``selector``
(dated selector names), ``keystore`` (AES-GCM sealing of private keys), ``master_key`` (the
master key file), ``errors``. Pure except ``master_key``, which creates one small file.
"""

from postillon.dkim.canonical import Canon, body_hash, normalize_line_endings
from postillon.dkim.keys import (
    KeyType,
    SigningKey,
    generate_ed25519_key,
    generate_rsa_key,
    load_private_key,
    record_name,
    split_txt,
)
from postillon.dkim.keystore import MasterKey, open_private_key, seal_private_key
from postillon.dkim.selector import dated_selector
from postillon.dkim.signer import DkimSigner, sign_message

__all__ = [
    "Canon",
    "DkimSigner",
    "KeyType",
    "MasterKey",
    "SigningKey",
    "body_hash",
    "dated_selector",
    "generate_ed25519_key",
    "generate_rsa_key",
    "load_private_key",
    "normalize_line_endings",
    "open_private_key",
    "record_name",
    "seal_private_key",
    "sign_message",
    "split_txt",
]
