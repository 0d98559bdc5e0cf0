"""The one exception type every layer raises for bad input.

An `InputError` carries a complete sentence for the planner: the file, the row (site name) where there is
one, the field, what is wrong and what is allowed. The CLI prints it as is and exits non-zero.
"""


class InputError(ValueError):
    """Bad input: a site file, a scenario file or a `--set` value the planner must fix."""

    def __init__(self, problems: str | list[str]):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__(" ".join(self.problems) if len(self.problems) == 1 else
                         f"{len(self.problems)} problems: " + " ".join(self.problems))
