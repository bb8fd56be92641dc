"""DKIM (RFC 6376, RFC 8463): canonicalization, signing, key generation and DNS records."""
