"""The one exception type every layer raises for bad input.

An `InputError` carries a complete sentence for the planner: the file, the row (site name) where there is
one, the field, what is wrong and what is allowed. The CLI prints it as is and exits non-zero.
"""

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def one_line(text: str) -> str:
    """`text` with control characters (line breaks, tabs ...) shown as escapes, so that a value quoted from
    a cell or a `--set` cannot break the sentence over lines: 'a\\nb' -> 'a\\\\nb'."""
    return _CONTROL.sub(lambda match: repr(match.group())[1:-1], text)


class InputError(ValueError):
    """Bad input: a site file, a scenario file or a `--set` value the planner must fix."""

    def __init__(self, problems: str | list[str]):
        self.problems = [one_line(p) for p in ([problems] if isinstance(problems, str) else problems)]
        super().__init__(" ".join(self.problems) if len(self.problems) == 1 else
                         f"{len(self.problems)} problems: " + " ".join(self.problems))
