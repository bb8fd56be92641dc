"""asyncio shell around the sans-I/O SMTP core: streams, STARTTLS, TlsInfo, per-phase timeouts."""
