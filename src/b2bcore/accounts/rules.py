"""Pure rules of the accounts context: the business-unit tree.

>>> from b2bcore.accounts import BusinessUnit
>>> from b2bcore.accounts.rules import check_tree, descendants
>>> units = [BusinessUnit(id="hq", company_id="acme", name="HQ"),
...          BusinessUnit(id="plant", company_id="acme", name="Plant", parent_id="hq"),
...          BusinessUnit(id="line-1", company_id="acme", name="Line 1", parent_id="plant")]
>>> check_tree(units)
>>> sorted(descendants(units, "hq"))
['hq', 'line-1', 'plant']
"""

from __future__ import annotations

from collections.abc import Iterable

from b2bcore.accounts.model import BusinessUnit
from b2bcore.errors import NotFoundError, ValidationError
from b2bcore.ids import BusinessUnitId

__all__ = ["ancestors", "check_tree", "descendants"]


def check_tree(units: Iterable[BusinessUnit]) -> None:
    """Check that ``units`` form a forest inside one company.

    Raises ValidationError when units of several companies are mixed or a parent
    chain loops, and NotFoundError when a parent is missing. The message names the
    units of the loop.
    """
    by_id: dict[str, BusinessUnit] = {}
    companies = set()
    for u in units:
        by_id[u.id] = u
        companies.add(u.company_id)
    if len(companies) > 1:
        raise ValidationError(
            f"business units of several companies in one tree: {sorted(companies)}",
            path="company_id",
        )
    for start in by_id:
        seen: list[str] = []
        current: str | None = start
        while current is not None:
            if current in seen:
                loop = [*seen[seen.index(current) :], current]
                raise ValidationError(
                    "business units would form a cycle: " + " -> ".join(loop),
                    path="parent_id",
                    value=loop,
                )
            seen.append(current)
            unit = by_id.get(current)
            if unit is None:
                raise NotFoundError("business unit", current)
            current = unit.parent_id


def ancestors(units: Iterable[BusinessUnit], unit_id: BusinessUnitId | str) -> list[BusinessUnitId]:
    """Ids from ``unit_id``'s parent up to the root (nearest first)."""
    by_id: dict[str, BusinessUnit] = {u.id: u for u in units}
    if unit_id not in by_id:
        raise NotFoundError("business unit", unit_id)
    out: list[BusinessUnitId] = []
    parent = by_id[unit_id].parent_id
    while parent is not None and parent not in out and parent != unit_id:
        out.append(parent)
        parent = by_id[parent].parent_id if parent in by_id else None
    return out


def descendants(
    units: Iterable[BusinessUnit], unit_id: BusinessUnitId | str
) -> set[BusinessUnitId]:
    """``unit_id`` and every unit below it."""
    children: dict[str | None, list[BusinessUnitId]] = {}
    known: set[str] = set()
    for u in units:
        children.setdefault(u.parent_id, []).append(u.id)
        known.add(u.id)
    if unit_id not in known:
        raise NotFoundError("business unit", unit_id)
    out: set[BusinessUnitId] = {BusinessUnitId(unit_id)}
    stack = [unit_id]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in out:
                out.add(child)
                stack.append(child)
    return out
