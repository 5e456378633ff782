"""Pure password and lockout rules (NIST SP 800-63B §5.1.1.2 and §5.2.2). No database, request or app here.

Memorised secrets: a minimum length, a generous maximum, a block-list of commonly used passwords and of the
account's own name; no composition rules and no forced periodic change.
"""
from __future__ import annotations

from functools import lru_cache

from flask_babel import lazy_gettext as _l

DEFAULT_MIN_LENGTH = 8
DEFAULT_MAX_LENGTH = 128


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """zxcvbn's packaged list of the 30,000 most common passwords (lower case), loaded once per process."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def check_password(password: str, *, username: str = "", min_length: int = DEFAULT_MIN_LENGTH,
                   max_length: int = DEFAULT_MAX_LENGTH) -> list[str]:
    """Every problem with a proposed password, each message naming the problem and the fix (empty list: fine).

    800-63B asks verifiers to check new secrets against lists of commonly used or compromised values and
    context-specific words such as the username, and to accept any printable characters and spaces.
    """
    problems: list[str] = []
    password = password or ""
    if len(password) < min_length:
        problems.append(str(_l("The password must have at least %(min)d characters; it has %(n)d.",
                               min=min_length, n=len(password))))
    if len(password) > max_length:
        problems.append(str(_l("The password may have at most %(max)d characters; it has %(n)d.",
                               max=max_length, n=len(password))))
    lowered = password.lower()
    if lowered and lowered in common_passwords():
        problems.append(str(_l("This password is on the list of commonly used passwords and is easy to guess. "
                               "Choose a longer phrase of unrelated words.")))
    name = (username or "").strip().lower()
    if name and lowered and name in lowered:
        problems.append(str(_l("The password must not contain the username. Choose something unrelated to your "
                               "account name.")))
    return problems


def lockout_seconds(failures: int, *, threshold: int, base: int, maximum: int) -> int:
    """How long an account waits after `failures` consecutive failed logins (0: no wait).

    Throttling per 800-63B §5.2.2: the threshold-th failure locks for `base` seconds, each further failure doubles
    the wait, never beyond `maximum`.
    """
    if threshold <= 0 or failures < threshold:
        return 0
    extra = min(failures - threshold, 32)  # 2**32 * base already exceeds any sensible cap
    return min(base * 2**extra, maximum)
