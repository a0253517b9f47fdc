"""Reserving and releasing stock inside a caller's unit of work.

:func:`reserve_stock` and :func:`release_stock` work on the two stock repositories
of any :class:`~b2bcore.storage.ports.UnitOfWork`, so an order can take its
reservations in the same transaction as the order itself: both commit, or neither
does. They never commit; the caller does.

Race safety comes from the stock level's version: every reservation updates the
level it takes from, so of two units of work that read the same level, only the
first to commit wins; the other gets :class:`~b2bcore.errors.ConcurrencyError`
(or, on a store that serializes writers, reads the new level and gets
:class:`~b2bcore.catalog.errors.InsufficientStockError`). Both are
:class:`~b2bcore.errors.ConflictError`: retry the whole unit of work.

>>> from datetime import datetime, timezone
>>> from b2bcore.catalog import StockLevel
>>> from b2bcore.catalog.inventory import release_stock, reserve_stock
>>> from b2bcore.storage.memory import MemoryStore
>>> store, at = MemoryStore(), datetime(2026, 5, 4, tzinfo=timezone.utc)
>>> with store.unit_of_work() as uow:
...     uow.stock_levels.add(StockLevel(sku="SEAL-7", location="leipzig", on_hand=3))
...     uow.stock_levels.add(StockLevel(sku="SEAL-7", location="berlin", on_hand=2))
...     uow.commit()
>>> with store.unit_of_work() as uow:
...     taken = reserve_stock(uow, company_id="acme", sku="SEAL-7", quantity=4,
...                           reference="order-1", at=at)
...     uow.commit()
>>> [(r.location, r.quantity) for r in taken]
[('berlin', Decimal('2')), ('leipzig', Decimal('2'))]
>>> with store.unit_of_work() as uow:
...     released = release_stock(uow, company_id="acme", reference="order-1", at=at)
...     uow.commit()
...     [(lv.location, lv.reserved) for lv in uow.stock_levels.for_sku("SEAL-7")]
[('berlin', Decimal('0')), ('leipzig', Decimal('0'))]
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from b2bcore.catalog.errors import InsufficientStockError
from b2bcore.catalog.model import (
    Reservation,
    ReservationStatus,
    StockLevel,
    StockReleased,
    StockReserved,
    _add,
    _quantity,
    _subtract,
)
from b2bcore.catalog.ports import StockRepositories
from b2bcore.clock import to_utc
from b2bcore.errors import NotFoundError, ValidationError
from b2bcore.ids import CompanyId, LocationId, ReservationId, Sku, as_id, check_id, new_id
from b2bcore.paging import iterate

__all__ = ["release_stock", "reserve_stock"]


def reserve_stock(
    uow: StockRepositories,
    *,
    company_id: str,
    sku: str,
    quantity: Decimal | int | str,
    reference: str,
    at: datetime,
    location: str | None = None,
    levels: Sequence[StockLevel] | None = None,
) -> list[Reservation]:
    """Reserve ``quantity`` of ``sku`` for ``company_id``'s ``reference`` (an order
    id …) and return the reservations made, one per location used.

    With ``location`` the stock comes from there only; otherwise from the locations
    in id order, as much as each has available. ``levels`` are the SKU's stock
    levels when the caller has just read them in this unit of work (they are then
    not read again; they must be all of the SKU's levels, unchanged since). Raises
    :class:`~b2bcore.catalog.errors.InsufficientStockError` (changing nothing)
    when less is available than asked. Whether the buyer may order the SKU at all
    is the caller's check (:func:`~b2bcore.catalog.rules.check_orderable`).
    """
    company = as_id(CompanyId, company_id, path="company_id")
    code = as_id(Sku, sku, path="sku")
    ref = check_id(reference, path="reference")
    wanted = _quantity(quantity, path="quantity", positive=True)
    when = to_utc(at, path="at")
    if location is not None:
        levels = [uow.stock_levels.get(code, as_id(LocationId, location, path="location"))]
    elif levels is None:
        levels = uow.stock_levels.for_sku(code)
    elif not isinstance(levels, (list, tuple)) or any(
        not isinstance(level, StockLevel) or level.sku != code for level in levels
    ):
        raise ValidationError(
            f"levels must be a list of {code}'s stock levels (as read in this unit of work)",
            path="levels",
            value=levels,
        )
    available = Decimal(0)
    for level in levels:
        available = _add(available, level.available)
    if available < wanted:
        raise InsufficientStockError(code, wanted, available, location=location)
    remaining = wanted
    made: list[Reservation] = []
    for level in sorted(levels, key=lambda lv: lv.location):
        if remaining <= 0:
            break
        part = min(level.available, remaining)
        if part <= 0:
            continue
        level.take(part)
        uow.stock_levels.update(level)
        reservation = Reservation(
            id=ReservationId(new_id()),
            company_id=company,
            sku=code,
            location=level.location,
            quantity=part,
            reference=ref,
            created_at=when,
        )
        reservation.record(
            StockReserved(
                company_id=company,
                occurred_at=when,
                reservation_id=reservation.id,
                sku=code,
                location=level.location,
                quantity=part,
                reference=ref,
            )
        )
        uow.reservations.add(reservation)
        made.append(reservation)
        remaining = _subtract(remaining, part)
    return made


def release_stock(
    uow: StockRepositories, *, company_id: str, reference: str, at: datetime
) -> list[Reservation]:
    """Release every active reservation of ``company_id``'s ``reference``; return
    them. Releasing again returns ``[]``; a reference that never reserved anything
    is a :class:`~b2bcore.errors.NotFoundError`."""
    company = as_id(CompanyId, company_id, path="company_id")
    ref = check_id(reference, path="reference")
    when = to_utc(at, path="at")
    every = list(
        iterate(
            lambda cursor: uow.reservations.list(
                company_id=company, reference=ref, limit=200, cursor=cursor
            )
        )
    )
    if not every:
        raise NotFoundError("reservation", ref, f"no stock was reserved for {ref!r}")
    released: list[Reservation] = []
    for reservation in every:
        if reservation.status is not ReservationStatus.ACTIVE:
            continue
        level = uow.stock_levels.get(reservation.sku, reservation.location)
        level.give_back(reservation.quantity)
        uow.stock_levels.update(level)
        reservation.status = ReservationStatus.RELEASED
        reservation.released_at = when
        reservation.record(
            StockReleased(
                company_id=company,
                occurred_at=when,
                reservation_id=reservation.id,
                sku=reservation.sku,
                location=reservation.location,
                quantity=reservation.quantity,
                reference=ref,
            )
        )
        uow.reservations.update(reservation)
        released.append(reservation)
    return released
