"""Real database servers for the tests: a PostgreSQL and a MariaDB (MySQL's protocol) of their own.

Each starts from Debian's packages (``postgresql``, ``mariadb-server``; ``.ci/run`` and ``make test``
install them when missing) into a fresh temporary folder, on a free port of the loopback address,
and is stopped at the end of the session. Database servers refuse to run as root, so under root
they run as the unprivileged user the Debian package made (``postgres``, ``mysql``).

Where a server's binaries are missing the tests that need it are skipped, saying what to install; in CI
(``CI`` set, as ``.ci/run`` runs) they fail instead, since ``make test`` installs them there and reading
the shop's database is part of the contract.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

PASSWORD = "Pw-9f3c:@/x%k!7"
"""The reading user's password: URL-special characters on purpose, and a string found nowhere else."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _missing(what: str) -> None:
    """A server that is not installed: skip with the reason on a developer's machine, fail in CI."""
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(what)
    pytest.skip(what)


def _as_service_user(user: str) -> tuple[list[str], int | None, int | None]:
    """The command prefix that runs a server as ``user`` when we are root (else as ourselves)."""
    if os.geteuid() != 0:
        return [], None, None
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        pytest.fail(f"running as root and there is no {user!r} user to run the database server as "
                    f"(Debian's package creates it)")
    return ["runuser", "-u", user, "--"], entry.pw_uid, entry.pw_gid


def _folder(prefix: str, uid: int | None, gid: int | None) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    if uid is not None:
        os.chown(path, uid, gid or -1)
    return path


@dataclass
class Server:
    kind: str
    port: int
    folder: Path
    reader: str = "shop_reader"

    def url(self, *, password: bool = True, database: str = "shop") -> str:
        secret = f":{quote(PASSWORD, safe='')}" if password else ""
        return f"{self.kind}://{self.reader}{secret}@127.0.0.1:{self.port}/{database}"


# -- PostgreSQL --------------------------------------------------------------------------------------


@contextlib.contextmanager
def postgres_server() -> Iterator[Server]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not found:
        _missing("PostgreSQL is not installed (/usr/lib/postgresql/*/bin): `apt-get install postgresql`, "
                 "as .ci/run and make test do")
    bindir = Path(found[-1]).parent
    prefix, uid, gid = _as_service_user("postgres")
    folder = _folder("segmark-pg-", uid, gid)
    port = _free_port()
    data = folder / "data"
    try:
        subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(data), "-U", "admin", "-E", "UTF8",
                        "--locale", "C.UTF-8", "--auth-local=trust", "--auth-host=scram-sha-256"],
                       check=True, capture_output=True)
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "-t", "60",
                        "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                        "-c full_page_writes=off -c shared_buffers=16MB", "start"],
                       check=True, capture_output=True)
        server = Server("postgresql", port, folder)
        admin(server, f"CREATE ROLE shop_reader LOGIN PASSWORD '{PASSWORD}'", database="postgres")
        admin(server, "CREATE DATABASE shop ENCODING 'UTF8' OWNER admin", database="postgres")
        admin(server, "GRANT SELECT ON ALL TABLES IN SCHEMA public TO shop_reader;\n"
                      "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO shop_reader")
        yield server
    except subprocess.CalledProcessError as exc:
        log = (folder / "log").read_text(errors="replace")[-2000:] if (folder / "log").exists() else ""
        pytest.fail(f"PostgreSQL did not start: {exc.stderr!r} {log}")
    finally:
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def admin(server: Server, sql: str, *, database: str = "shop") -> None:
    """Run SQL as the server's superuser (over its socket), as a shop's own application would."""
    if server.kind == "postgresql":
        import adbc_driver_postgresql.dbapi as pg

        uri = f"postgresql:///{database}?host={server.folder}&port={server.port}&user=admin"
        with pg.connect(uri, autocommit=True) as con, con.cursor() as cur:
            for statement in [s for s in sql.split(";\n") if s.strip()]:
                cur.execute(statement)
        return
    import pymysql

    con = pymysql.connect(unix_socket=str(server.folder / "sock"), user="root", database=database,
                          charset="utf8mb4", autocommit=True)
    try:
        with con.cursor() as cur:
            for statement in [s for s in sql.split(";\n") if s.strip()]:
                cur.execute(statement)
    finally:
        con.close()


# -- MariaDB -------------------------------------------------------------------------------------------


@contextlib.contextmanager
def mariadb_server() -> Iterator[Server]:
    install, daemon = shutil.which("mariadb-install-db"), shutil.which("mariadbd") or (
        "/usr/sbin/mariadbd" if Path("/usr/sbin/mariadbd").exists() else None)
    if not install or not daemon:
        _missing("MariaDB is not installed (mariadb-install-db, mariadbd): `apt-get install mariadb-server`, "
                 "as .ci/run and make test do")
    prefix, uid, gid = _as_service_user("mysql")
    folder = _folder("segmark-mariadb-", uid, gid)
    port = _free_port()
    data, sock = folder / "data", folder / "sock"
    proc = None
    try:
        subprocess.run([*prefix, install, "--no-defaults", f"--datadir={data}", "--skip-test-db",
                        "--auth-root-authentication-method=normal", "--skip-name-resolve"],
                       check=True, capture_output=True)
        with (folder / "err.log").open("w") as err:
            proc = subprocess.Popen(
                [*prefix, daemon, "--no-defaults", f"--datadir={data}", f"--port={port}", "--bind-address=127.0.0.1",
                 f"--socket={sock}", f"--pid-file={folder / 'pid'}", "--skip-log-bin", "--innodb-buffer-pool-size=16M",
                 "--innodb-flush-log-at-trx-commit=0", "--character-set-server=utf8mb4"],
                stdout=subprocess.DEVNULL, stderr=err)
        server = Server("mysql", port, folder)
        deadline = time.monotonic() + 60
        while True:
            try:
                admin(server, "SELECT 1", database="mysql")
                break
            except Exception:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"MariaDB did not start: {(folder / 'err.log').read_text(errors='replace')[-2000:]}")
                time.sleep(0.1)
        admin(server, f"CREATE USER 'shop_reader'@'%' IDENTIFIED BY '{PASSWORD}';\n"
                      "CREATE DATABASE shop CHARACTER SET utf8mb4;\n"
                      "GRANT SELECT ON shop.* TO 'shop_reader'@'%'", database="mysql")
        yield server
    except subprocess.CalledProcessError as exc:
        pytest.fail(f"MariaDB could not be set up: {exc.stderr!r}")
    finally:
        if proc is not None:
            # its data is thrown away: stop the server itself at once (the runuser wrapper then ends)
            pid_file = folder / "pid"
            if pid_file.exists():
                with contextlib.suppress(OSError, ValueError):
                    os.kill(int(pid_file.read_text().strip()), signal.SIGKILL)
            else:
                proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(folder, ignore_errors=True)
