"""A real IMAP server for the tests: Debian's Dovecot (``./install.sh --dev`` installs
dovecot-imapd), started in the foreground on a free loopback port with one user in a passwd file
and its mail in a temporary directory. Mail is put in with IMAP APPEND, as a mail server's
delivery would leave it."""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from .helpers import free_port

USER = "support@booknook.example"
PASSWORD = "گذرواژه-mailbox-7"
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"

CONFIG = """
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {internal}
default_internal_group = {internal_group}
default_login_user = {login}
first_valid_uid = 1
mail_location = maildir:{root}/mail/%n
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%n
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
service anvil {{
  chroot =
}}
"""


def available() -> bool:
    return Path(DOVECOT).exists()


class Dovecot:
    """One running Dovecot; ``append`` puts an e-mail in the user's INBOX and answers its UID."""

    def __init__(self, *, tls: bool = False) -> None:
        """``tls``: also IMAPS on ``tls_port`` (and STARTTLS on ``port``), with a self-signed
        certificate made here (openssl: Dovecot's own packages depend on it)."""
        self.port = free_port()
        self.tls_port = free_port() if tls else 0
        # As root, Dovecot runs its mail processes as its own unprivileged users (it refuses
        # root): the mail lives in a directory those can reach, not under pytest's 0700 one.
        self.root = Path(tempfile.mkdtemp(prefix="imap-"))
        if os.geteuid() == 0:
            internal = pwd.getpwnam("dovecot")
            uid, gid = internal.pw_uid, internal.pw_gid
            names = {"internal": "dovecot", "internal_group": "dovecot", "login": "dovenull"}
        else:
            me = pwd.getpwuid(os.getuid())
            uid, gid = me.pw_uid, me.pw_gid
            names = {"internal": me.pw_name, "internal_group": me.pw_name, "login": me.pw_name}
        for sub in ("run", "state", "mail", "home"):
            (self.root / sub).mkdir()
        os.chmod(self.root, 0o755)
        if os.geteuid() == 0:
            for sub in ("mail", "home"):
                os.chown(self.root / sub, uid, gid)
        (self.root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n", encoding="utf-8")
        ssl = "ssl = no"
        if tls:
            subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
                + ["-addext", "subjectAltName=IP:127.0.0.1"]
                + ["-keyout", str(self.root / "key.pem"), "-out", str(self.root / "cert.pem")],
                check=True,
                capture_output=True,
            )
            ssl = f"ssl = yes\nssl_cert = <{self.root}/cert.pem\nssl_key = <{self.root}/key.pem"
        config = self.root / "dovecot.conf"
        config.write_text(
            CONFIG.format(root=self.root, port=self.port, tls_port=self.tls_port, ssl=ssl, uid=uid, gid=gid, **names),
            encoding="utf-8",
        )
        self.proc = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 15
        while True:
            try:
                with self.connect():
                    break
            except (OSError, imaplib.IMAP4.error):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("dovecot didn't start: " + self.log()) from None
                time.sleep(0.1)

    def connect(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        conn.authenticate("PLAIN", lambda _: f"\0{USER}\0{PASSWORD}".encode())
        return conn

    def append(self, raw: bytes, folder: str = "INBOX") -> int:
        with self.connect() as conn:
            typ, data = conn.append(folder, None, None, raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
            assert typ == "OK", data
            return int(data[0].split(b"]")[0].split()[-1])  # [APPENDUID <validity> <uid>]

    @property
    def certificate(self) -> Path:
        return self.root / "cert.pem"

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(encoding="utf-8", errors="replace")[-2000:] if path.exists() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)
