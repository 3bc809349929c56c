"""Who may watch and stop a training job.

A job has an unguessable id (it goes into the Train page's address) and, when a browser session started
it, an *owner key*: a secret of that one job that only the starting session holds (and the address of
its own tab, so that a reload finds the job again). The job keeps only a hash of the key. A run name
is what other users see of the owner; without one the run is anonymous. A teacher or admin who knows
the server's ``KFS_ADMIN_TOKEN`` may watch and stop every job.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from studio.i18n import N_, _

ADMIN_TOKEN_VARIABLE = "KFS_ADMIN_TOKEN"
ANONYMOUS = N_("anonymous")
MAX_RUN_NAME = 60


def new_job_id() -> str:
    """A fresh job id: 128 random bits, URL-safe (``secrets.token_urlsafe``)."""
    return secrets.token_urlsafe(16)


def new_owner_key() -> str:
    """A fresh owner key for one job: 192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def clean_run_name(text: str | None) -> str:
    """A run name as others may see it: control and format characters dropped, spaces collapsed, at most 60 characters."""
    kept = "".join(" " if char.isspace() else char for char in str(text or "") if char.isspace() or unicodedata.category(char)[0] != "C")
    return " ".join(kept.split())[:MAX_RUN_NAME]


@dataclass(frozen=True)
class Ownership:
    """The hash of a job's owner key (empty: no session owns it, as for the command line) and its public run name."""

    key_digest: str = ""
    run_name: str = ""

    @classmethod
    def for_key(cls, owner_key: str, run_name: str | None = None) -> Ownership:
        """Owned by whoever holds ``owner_key``; shown to others under ``run_name`` (or as anonymous)."""
        if not owner_key:
            raise ValueError("An owner key must not be empty")
        return cls(_digest(owner_key), clean_run_name(run_name))

    def allows(self, owner_key: str | None) -> bool:
        """Whether this key is the owner's (compared in constant time; no key and no owner never match)."""
        if not owner_key or not self.key_digest:
            return False
        return hmac.compare_digest(_digest(owner_key), self.key_digest)

    @property
    def public_name(self) -> str:
        """What other users see: the run name the owner chose, or 'anonymous'."""
        return self.run_name or _(ANONYMOUS)


def admin_token_configured(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the server has a teacher/admin token (environment variable KFS_ADMIN_TOKEN)."""
    return bool((environ if environ is not None else os.environ).get(ADMIN_TOKEN_VARIABLE, "").strip())


def is_admin_token(token: str | None, environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``token`` is the server's admin token (never true when none is configured)."""
    expected = (environ if environ is not None else os.environ).get(ADMIN_TOKEN_VARIABLE, "").strip()
    if not expected or not token:
        return False
    return hmac.compare_digest(token.strip().encode("utf-8"), expected.encode("utf-8"))
