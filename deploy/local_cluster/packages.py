"""The Debian packages `make scale` runs on (PostgreSQL, Redis, nginx): finding their programs,
and installing the missing ones without starting their system services."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path
from typing import List, Optional

PACKAGES = ("postgresql", "redis-server", "nginx")


class ServicesUnavailable(RuntimeError):
    """PostgreSQL, Redis or nginx is not installed and could not be installed."""


def pg_bindir() -> Optional[Path]:
    """Debian's newest PostgreSQL server binaries (/usr/lib/postgresql/N/bin), else PATH's."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).resolve().parent if pg_ctl else None


def program(name: str) -> Optional[str]:
    return shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK)), None
    )


def missing_packages() -> List[str]:
    missing = []
    if pg_bindir() is None or not (pg_bindir() / "initdb").exists():
        missing.append("postgresql")
    if program("redis-server") is None:
        missing.append("redis-server")
    if program("nginx") is None:
        missing.append("nginx")
    return missing


POLICY_RC_D = Path("/usr/sbin/policy-rc.d")
DENY_ALL_POLICY = (
    "#!/bin/sh\n# deploy/local_cluster/packages.py: no service starts while it installs packages\nexit 101\n"
)


def install_packages(quiet: bool = False) -> None:
    """apt-get installs the missing packages (as root, or with passwordless sudo), without
    questions and without starting their system services: each would otherwise listen on its
    default port (5432, 6379, 80) for the whole machine. Debian's maintainer scripts start
    services through invoke-rc.d, which asks /usr/sbin/policy-rc.d first; for the install that
    file says "exit 101" (forbidden), and whatever was there before is put back afterwards."""
    missing = missing_packages()
    if not missing:
        return
    if os.geteuid() == 0:
        sudo: List[str] = []
    elif shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        sudo = ["sudo", "-n"]
    else:
        raise ServicesUnavailable(f"{', '.join(missing)} missing; installing needs root or passwordless sudo")
    if shutil.which("apt-get") is None:
        raise ServicesUnavailable(f"{', '.join(missing)} missing and apt-get is not available")
    # `env` after sudo: sudo's env_reset would drop DEBIAN_FRONTEND.
    apt = [*sudo, "env", "DEBIAN_FRONTEND=noninteractive", "NEEDRESTART_MODE=l", "apt-get"]
    output = subprocess.PIPE if quiet else None
    had_policy = POLICY_RC_D.exists()
    backup = POLICY_RC_D.with_name("policy-rc.d.jiebei-saved")
    if had_policy:
        subprocess.run([*sudo, "cp", "-p", str(POLICY_RC_D), str(backup)], check=True)
    try:
        subprocess.run(
            [*sudo, "sh", "-c", f"cat > {POLICY_RC_D} && chmod 755 {POLICY_RC_D}"],
            input=DENY_ALL_POLICY,
            text=True,
            check=True,
        )
        print(f"installing {' '.join(missing)} (apt-get; their system services are not started)", flush=True)
        update = subprocess.run(
            [*apt, "update"], stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True
        )
        install = subprocess.run(
            [*apt, "install", "-y", "--no-install-recommends", *missing],
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
        )
    finally:
        if had_policy:
            subprocess.run([*sudo, "mv", "-f", str(backup), str(POLICY_RC_D)], check=False)
        else:
            subprocess.run([*sudo, "rm", "-f", str(POLICY_RC_D)], check=False)
    still = missing_packages()
    if still:
        detail = (install.stdout or update.stdout or "")[-1500:] if quiet else ""
        raise ServicesUnavailable(
            f"apt-get could not install {', '.join(still)} (update exit {update.returncode}, "
            f"install exit {install.returncode}){chr(10) + detail if detail else ''}"
        )
