"""The starter ``postillon.toml`` that ``postillon init`` writes where no config exists.

Every setting in it is commented out, so a fresh file loads exactly as the defaults do; it only
names the keys a deployment must choose and says why. Must not hold secrets (the file is
written world-readable like any config) nor be written over an existing file (cli.init checks).
"""

from __future__ import annotations

STARTER_TOML = """\
# postillon configuration, written by `postillon init`. Every key is commented out, so the
# defaults apply; uncomment what your deployment needs. `postillon check-config` prints the
# settings as the service sees them and warns about what is still to set. Any key can also be
# set from the environment: POSTILLON_<SECTION>__<KEY>.

[storage]
# Where the SQLite queue and the DKIM master key live (default: var beside this file).
# data_dir = "var"
# url = "postgresql://postillon@127.0.0.1/postillon"   # several nodes share one queue

[api]
# listen = "127.0.0.1:8025"
# The URL the public reaches this API at; needed for one-click unsubscribe links (RFC 8058).
# public_url = "https://mail.example.com"

[delivery]
# The fully qualified name your sending IPs' PTR records give (EHLO, return-path MX).
# helo_name = "mta1.example.com"
# Public addresses SPF authorizes, and local addresses to send from (behind NAT they differ).
# spf_addresses = ["203.0.113.5"]
# bind_addresses = ["10.0.0.5"]

[inbound]
# Bounces and complaints come back by mail to this listener (port 25 on the helo_name host).
# listen = ["0.0.0.0:25"]

[submission]
# SMTP submission with an API key as password; needs a certificate (AUTH only over TLS).
# listen = ["0.0.0.0:587"]
# implicit_tls_listen = ["0.0.0.0:465"]
# cert_file = "/etc/postillon/tls/fullchain.pem"
# key_file = "/etc/postillon/tls/privkey.pem"

[dashboard]
# Keeps dashboard sessions across restarts and nodes: openssl rand -base64 32
# session_secret = "..."
"""
