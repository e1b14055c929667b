"""``vaultform fmt``: Terraform's canonical layout for configuration files, byte for byte."""

from __future__ import annotations

from reconciler.fmt.check import SyntaxProblem, check
from reconciler.fmt.layout import format_tokens, render
from reconciler.fmt.rewrite import rewrite
from reconciler.fmt.tokens import scan


class FormatSyntaxError(ValueError):
    def __init__(self, problem: SyntaxProblem):
        super().__init__(f"line {problem.line}: {problem.summary}")
        self.problem = problem


def format_source(text: str) -> str:
    """The canonical form of one file's text; FormatSyntaxError when it can't be formatted safely."""
    tokens = scan(text)
    problem = check(tokens)
    if problem is not None:
        raise FormatSyntaxError(problem)
    tokens = rewrite(tokens)
    format_tokens(tokens)
    return render(tokens)
