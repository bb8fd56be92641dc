"""The private configuration of a throwaway Postfix instance: main.cf, master.cf, queue dirs.

Owns: writing a complete instance directory (etc/, spool/, data/) for one smtpd listener on a
loopback address, with optional TLS and relaying. It must not start anything, nor touch
/etc/postfix or /var/spool/postfix (only Postfix's read-only meta and shlib files are used).
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import time
from collections.abc import Mapping
from pathlib import Path

from tests.support.certs import CertFiles

# Queue subdirectories with the owner group and mode Postfix's post-install gives them;
# owner is mail_owner (postfix) except pid/, which is root's.
QUEUE_DIRS: tuple[tuple[str, str | None, int], ...] = (
    *(
        (name, None, 0o700)
        for name in (
            "active",
            "bounce",
            "corrupt",
            "defer",
            "deferred",
            "flush",
            "hold",
            "incoming",
            "private",
            "saved",
            "trace",
        )
    ),
    ("maildrop", "postdrop", 0o730),
    ("public", "postdrop", 0o710),
)
# How far in the past the config files are dated, so Postfix treats them as settled.
CONFIG_AGE_S = 60.0
# The discard transport's text, logged as "status=sent (...)".
DISCARD_TEXT = "discarded by postillon tests"

# The Debian master.cf without chroot (no chroot tree needed); smtpd is prepended per instance.
MASTER_CF_SERVICES = """\
pickup    unix  n - n 60    1 pickup
cleanup   unix  n - n -     0 cleanup
qmgr      unix  n - n 300   1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n -     - trivial-rewrite
bounce    unix  - - n -     0 bounce
defer     unix  - - n -     0 bounce
trace     unix  - - n -     0 bounce
verify    unix  - - n -     1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -     - proxymap
smtp      unix  - - n -     - smtp
relay     unix  - - n -     - smtp
showq     unix  n - n -     - showq
error     unix  - - n -     - error
retry     unix  - - n -     - error
discard   unix  - - n -     - discard
anvil     unix  - - n -     1 anvil
scache    unix  - - n -     1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


def main_cf(
    base: Path,
    *,
    tls: CertFiles | None,
    relay_to: tuple[str, int] | None,
    myhostname: str,
    overrides: Mapping[str, str],
) -> dict[str, str]:
    """main.cf parameters for an instance under ``base``, ``overrides`` applied last."""
    params = {
        "compatibility_level": "3.6",
        "meta_directory": "/etc/postfix",
        "shlib_directory": "/usr/lib/postfix",
        "config_directory": str(base / "etc"),
        "queue_directory": str(base / "spool"),
        "data_directory": str(base / "data"),
        "maillog_file": str(base / "maillog"),
        "maillog_file_prefixes": str(base),
        "myhostname": myhostname,
        "mydomain": "test",
        "mydestination": "",
        "local_recipient_maps": "",
        "relay_domains": "",
        "alias_maps": "",
        "alias_database": "",
        # Postfix only accepts configured interface addresses here; 127.0.0.x other than
        # .1 is reachable on lo but not configured, so the listener is named in master.cf.
        "inet_interfaces": "127.0.0.1",
        "inet_protocols": "ipv4",
        "mynetworks": "127.0.0.0/8",
        "smtpd_relay_restrictions": "permit_mynetworks, reject",
        "smtpd_recipient_restrictions": "permit_mynetworks, reject",
        # No reverse DNS for clients: the test machine may have no resolver.
        "smtpd_peername_lookup": "no",
        "smtp_dns_support_level": "disabled",
        # Leave the message as sent (no added Date/From/Message-ID, no address rewriting):
        # relayed bytes differ only by Postfix's Received header.
        "local_header_rewrite_clients": "",
        "biff": "no",
        "smtputf8_enable": "yes",
    }
    if relay_to is None:
        params["default_transport"] = f"discard:{DISCARD_TEXT}"
    else:
        relay_host, relay_port = relay_to
        params["relayhost"] = f"[{relay_host}]:{relay_port}"
    if tls is not None:
        params["smtpd_tls_cert_file"] = str(base / "etc" / "tls.crt")
        params["smtpd_tls_key_file"] = str(base / "etc" / "tls.key")
        params["smtpd_tls_security_level"] = "may"
        params["smtpd_tls_loglevel"] = "1"
    params.update(overrides)
    return params


def write_instance(
    base: Path,
    *,
    host: str,
    port: int,
    tls: CertFiles | None = None,
    relay_to: tuple[str, int] | None = None,
    myhostname: str = "postfix.test",
    overrides: Mapping[str, str] | None = None,
) -> None:
    """Create etc/, spool/ and data/ under the empty directory ``base`` (needs root)."""
    for sub in ("etc", "spool", "data"):
        (base / sub).mkdir()
    postfix_uid = pwd.getpwnam("postfix").pw_uid
    os.chown(base / "data", postfix_uid, -1)
    (base / "spool" / "pid").mkdir(mode=0o755)
    for name, group, mode in QUEUE_DIRS:
        path = base / "spool" / name
        path.mkdir()
        path.chmod(mode)
        os.chown(path, postfix_uid, grp.getgrnam(group).gr_gid if group else -1)
    if tls is not None:
        # Copies, so the key is readable however pytest's temp directories are protected.
        shutil.copyfile(tls.cert_path, base / "etc" / "tls.crt")
        shutil.copyfile(tls.key_path, base / "etc" / "tls.key")
        (base / "etc" / "tls.key").chmod(0o600)
    main_cf_text = "".join(
        f"{name} = {value}\n"
        for name, value in main_cf(
            base, tls=tls, relay_to=relay_to, myhostname=myhostname, overrides=overrides or {}
        ).items()
    )
    (base / "etc" / "main.cf").write_text(main_cf_text)
    smtpd = f"{host}:{port} inet n - n - - smtpd\n"
    (base / "etc" / "master.cf").write_text(smtpd + MASTER_CF_SERVICES)
    # Postfix re-reads a main.cf modified in the last moments until it settles (300 ms
    # steps, ~2 s); files dated in the past let master start at once.
    settled = time.time() - CONFIG_AGE_S
    for name in ("main.cf", "master.cf"):
        os.utime(base / "etc" / name, (settled, settled))
