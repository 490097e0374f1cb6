"""
A throwaway PostgreSQL cluster for the fault suite.

initdb in a temporary folder, a free port on 127.0.0.1 (never 5432, the
machine's shared server), started, restarted, crashed and stopped with pg_ctl,
and deleted at the end. PostgreSQL refuses to run as root, so a root process
(CI) runs its tools as the `postgres` user, which owns the folder.
"""

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

SHARED_PORT = 5432


class ClusterUnavailable(Exception):
    """This machine cannot run a throwaway cluster; the message says why and what to install."""


def find_bin_dir() -> Path:
    """The newest PostgreSQL whose initdb and pg_ctl are here: on PATH, or Debian's folders."""
    candidates = []
    if on_path := shutil.which("pg_ctl"):
        candidates.append(Path(on_path).parent)
    debian = Path("/usr/lib/postgresql")
    if debian.is_dir():
        versions = [p for p in debian.iterdir() if p.name.replace(".", "").isdigit()]
        versions.sort(key=lambda p: float(p.name), reverse=True)
        candidates += [version / "bin" for version in versions]
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    raise ClusterUnavailable(
        "the fault suite needs PostgreSQL's initdb and pg_ctl (Debian: apt-get install "
        "postgresql); none were found on PATH or under /usr/lib/postgresql/*/bin"
    )


def free_port() -> int:
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port != SHARED_PORT:
            return port


def _unprivileged_owner() -> pwd.struct_passwd | None:
    """None to run the tools as ourselves; the `postgres` account when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise ClusterUnavailable(
            "running as root, and PostgreSQL refuses root: the fault suite runs initdb as the "
            "`postgres` user, which this machine does not have (it comes with apt-get install "
            "postgresql)"
        ) from None


class Cluster:
    """One throwaway cluster. `start()` creates it; `destroy()` always removes it."""

    def __init__(self) -> None:
        self.bin_dir = find_bin_dir()
        self.owner = _unprivileged_owner()
        # Under /tmp when root: the `postgres` user must be able to reach the folder.
        parent = "/tmp" if self.owner and os.path.isdir("/tmp") else None
        self.folder = Path(tempfile.mkdtemp(prefix="annotate-faults-pg-", dir=parent))
        if self.owner:
            os.chown(self.folder, self.owner.pw_uid, self.owner.pw_gid)
        self.data = self.folder / "data"
        self.log = self.folder / "postgres.log"
        self.port = free_port()

    # Life cycle

    def start(self) -> "Cluster":
        if not self.data.exists():
            self._tool(
                "initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                "--locale=C", "--no-sync",
            )  # fmt: skip
        self._pg_ctl("start", "-l", self.log, "-o", self._options())
        return self

    def restart(self, mode: str = "fast") -> None:
        """Stop (closing every connection) and start again, as `pg_ctl restart -m <mode>`."""
        self._pg_ctl("restart", "-m", mode, "-l", self.log, "-o", self._options())

    def stop(self, mode: str = "fast") -> None:
        """`immediate` is a crash: no checkpoint, recovery from the WAL on the next start."""
        self._pg_ctl("stop", "-m", mode)

    def destroy(self) -> None:
        """Stop the server, whatever state it is in, and delete the folder."""
        try:
            if (self.data / "postmaster.pid").exists():
                self._pg_ctl("stop", "-m", "immediate", check=False)
        finally:
            self._kill_leftover_postmaster()
            shutil.rmtree(self.folder, ignore_errors=True)

    def _kill_leftover_postmaster(self) -> None:
        pid_file = self.data / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return
        try:
            command_line = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return
        if str(self.data).encode() in command_line:  # ours, not a reused process id
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    # Databases

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(self.url(database), autocommit=True, connect_timeout=5)

    def create_database(self, name: str, *, template: str | None = None) -> str:
        statement = f'CREATE DATABASE "{name}"'
        if template:
            statement += f' TEMPLATE "{template}"'
        with self.connect() as connection:
            connection.execute(statement)
        return self.url(name)

    # Tools

    def _options(self) -> str:
        # fsync off: only an operating-system crash could lose data, and none is simulated.
        return (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=50"
        )

    def _pg_ctl(self, action: str, *args, check: bool = True) -> None:
        self._tool("pg_ctl", action, "-D", self.data, "-w", "-t", "60", *args, check=check)

    def _tool(self, name: str, *args, check: bool = True) -> subprocess.CompletedProcess:
        owner = self.owner
        result = subprocess.run(
            [str(self.bin_dir / name), *map(str, args)],
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=120,
            user=owner.pw_uid if owner else None,
            group=owner.pw_gid if owner else None,
            extra_groups=[] if owner else None,
            env={**os.environ, "LC_ALL": "C", "PGTZ": "UTC"},
        )
        if check and result.returncode:
            raise RuntimeError(
                f"{name} {' '.join(map(str, args))} failed ({result.returncode}):\n"
                f"{result.stdout}{result.stderr}\n{self.log_tail()}"
            )
        return result

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""
