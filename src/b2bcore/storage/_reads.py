"""Read-only reads: an optional capability of repositories (private).

Every command reads the same few documents — the company, its roles and units,
the user, the products of its lines — and most of the time they have not changed
since the last command. A repository that implements :class:`ReadOnlyReads` (b2bcore's
own adapters do) still reads the rows in the caller's unit of work, fresh, but hands
out the object it structured last time when the row is the same. Such objects are
shared between units of work and threads, so a caller asks for them only when it
will never change what it gets; everything else uses the ports' ``get`` / ``list``.
A repository without the capability is read through its port as usual.

The same goes for writes: :func:`writes_together` gives the unit of work's
``batched()`` block where it has one (PostgreSQL: one round trip for the writes
inside, checked as one), else a block that changes nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeGuard, TypeVar, cast, runtime_checkable

__all__ = [
    "ReadOnlyReads",
    "read_only_get",
    "read_only_many",
    "writes_together",
]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


@runtime_checkable
class ReadOnlyReads(Protocol[T_co]):
    """A repository that can hand out shared objects for reads that only look."""

    def read_only_get(self, key: str, company_id: str | None, /) -> T_co:
        """The object ``key`` of ``company_id`` — None: of the platform (the
        seller's catalogue) — NotFoundError if there is none."""
        ...


#: Per repository class: whether it has the capability (a Protocol isinstance check
#: costs microseconds; this is asked several times per command).
_CAPABLE: dict[type, bool] = {}


def _capable(repo: object) -> TypeGuard[ReadOnlyReads[object]]:
    kind = type(repo)
    known = _CAPABLE.get(kind)
    if known is None:
        known = _CAPABLE[kind] = isinstance(repo, ReadOnlyReads)
    return known


def read_only_get(repo: object, key: str, company_id: str | None, fallback: Callable[[], T]) -> T:
    """``repo``'s shared object ``key`` if it has the capability, else ``fallback()``."""
    if _capable(repo):
        return cast(T, repo.read_only_get(key, company_id))
    return fallback()


def read_only_many(
    uow: object,
    wanted: Sequence[tuple[object, str | None, str | None]],
    fallback: Callable[[], list[tuple[Any, ...]]],
) -> list[tuple[Any, ...]]:
    """Several reads that only look, at once, if the unit of work can (b2bcore's own
    can: one round trip on PostgreSQL), else ``fallback()``: per ``(repository,
    company_id, key)`` the object with that key (a tuple of none or one) or, with
    key None, every object of the company, in the repository's order."""
    many = getattr(uow, "read_only_many", None)
    found = many(wanted) if many is not None else None
    return fallback() if found is None else cast(list[tuple[Any, ...]], found)


def writes_together(uow: object) -> contextlib.AbstractContextManager[None]:
    """The unit of work's ``batched()`` block if it has one (b2bcore's own: on
    PostgreSQL the writes inside go to the server in one round trip and a failed one
    fails the whole unit), else a block that changes nothing."""
    batched = getattr(uow, "batched", None)
    if batched is None:
        return contextlib.nullcontext()
    return cast(contextlib.AbstractContextManager[None], batched())
