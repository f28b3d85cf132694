"""A plain-text table printer shared by the benchmarks."""

from __future__ import annotations

from collections.abc import Sequence

import attrs


@attrs.define
class Table:
    title: str
    columns: Sequence[str]
    rows: list[Sequence[object]] = attrs.Factory(list)
    notes: list[str] = attrs.Factory(list)
    ok: bool = True
    """False when a correctness check of the benchmark failed (the run then fails)."""
    extra: dict[str, float] = attrs.Factory(dict)
    """Figures another benchmark reuses (P2's read units feed the cost model)."""

    def add(self, *row: object) -> None:
        self.rows.append(row)

    def render(self) -> str:
        cells = [[str(c) for c in self.columns]] + [[_fmt(v) for v in row] for row in self.rows]
        widths = [max(len(r[i]) for r in cells) for i in range(len(self.columns))]
        line = "+".join("-" * (w + 2) for w in widths)
        out = [f"## {self.title}", line]
        for n, row in enumerate(cells):
            out.append("|".join(f" {c:>{w}} " for c, w in zip(row, widths, strict=True)))
            if n == 0:
                out.append(line)
        out.append(line)
        out += [f"  {note}" for note in self.notes]
        return "\n".join(out)


def met(achieved: bool) -> str:
    """The `met` column's cell: whether a figure reached its target (named in the header)."""
    return "yes" if achieved else "NO"


RESULTS: dict[str, Table] = {}
"""Tables of this run by benchmark module, so later benchmarks can reuse measured figures."""


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
