"""Quarter labels `YYYYQn` and their ordinal numbers (shared by site files and scenarios).

An ordinal is `4*year + (n-1)`, so consecutive quarters differ by one and `2026Q1` -> 8104.
"""

import re

_LABEL = re.compile(r"^(\d{4})Q([1-4])$")


def is_quarter(label: object) -> bool:
    """True when `label` is a string such as `2027Q3`."""
    return isinstance(label, str) and bool(_LABEL.match(label.strip()))


def ordinal(label: str) -> int:
    """`2027Q3` -> 4*2027 + 2. Raises ValueError for anything that is not `YYYYQn`, n in 1..4."""
    match = _LABEL.match(str(label).strip())
    if not match:
        raise ValueError(f"'{label}' is not a quarter label; allowed: YYYYQn with n in 1-4, e.g. 2027Q1")
    return 4 * int(match.group(1)) + int(match.group(2)) - 1


def label(ordinal_: int) -> str:
    """Inverse of `ordinal`."""
    return f"{ordinal_ // 4}Q{ordinal_ % 4 + 1}"


def quarter_range(start: str, end: str) -> list[str]:
    """Every label from `start` to `end` inclusive."""
    return [label(k) for k in range(ordinal(start), ordinal(end) + 1)]


def year(label_: str) -> int:
    """`2027Q3` -> 2027."""
    return ordinal(label_) // 4
