#!/usr/bin/env bash
# Install the Debian packages the test suite needs, only those missing. swaks (with
# libnet-ssleay-perl for its TLS) and libsasl2-modules (Postfix's SASL client) test submission.
# systemd brings systemd-analyze, which checks the unit in deploy/; curl runs the README walkthrough.
# Postfix is installed with "No configuration" so no system mail daemon starts and grabs port 25:
# the tests run Postfix's smtpd and smtp-sink themselves on 127.0.0.x.
set -euo pipefail
pkgs=(postfix knot knot-dnsutils chromium systemd curl swaks libnet-ssleay-perl libsasl2-modules unbound)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || { echo "need root to install: ${missing[*]}" >&2; exit 1; }
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
# A system Postfix or knot started by the package would hold ports the tests bind: stop them.
if pgrep -x master >/dev/null 2>&1 && [ -f /var/spool/postfix/pid/master.pid ]; then
    postfix stop >/dev/null 2>&1 || true
fi
if pgrep -x knotd >/dev/null 2>&1 && [ -S /run/knot/knot.sock ]; then
    knotc -s /run/knot/knot.sock stop >/dev/null 2>&1 || true
fi
# unbound: the DANE tests run their own validating instance on 127.0.18.54; a system one started
# by the package stays on its own 127.0.0.1:53 and is left alone.
