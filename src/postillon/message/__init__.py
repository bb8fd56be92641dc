"""Messages: API payload to RFC 5322 bytes; address and header validation."""
