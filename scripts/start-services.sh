#!/usr/bin/env bash
# Start the services the test suite talks to, if they are not running: PostgreSQL on
# 127.0.0.1:5432 (trust auth, as this machine kind provides it).
set -euo pipefail
if ! (echo > /dev/tcp/127.0.0.1/5432) 2>/dev/null; then
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
    else
        echo "PostgreSQL is not running and pg_ctlcluster is missing" >&2
        exit 1
    fi
    for _ in $(seq 50); do (echo > /dev/tcp/127.0.0.1/5432) 2>/dev/null && break; sleep 0.2; done
fi
