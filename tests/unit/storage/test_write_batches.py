"""``DocumentUnitOfWork.batched()`` on MemoryStore, SQLiteStore and PostgresStore: the
writes inside the block are stored like any others; a read inside sees them; a write
that fails (a duplicate, a stale version) or any other error inside the block rolls
the whole unit of work back, so nothing of it can be committed.

On PostgreSQL the block's writes go to the server in one round trip (the orders service
stores a new order, its reservations and stock updates this way); the PostgreSQL cases
need ``B2BCORE_POSTGRES_DSN`` and skip, saying why, without it.
"""

from __future__ import annotations

import pytest

from b2bcore.accounts.model import Company
from b2bcore.catalog import StockLevel
from b2bcore.errors import ConcurrencyError, DuplicateError, NotFoundError
from b2bcore.ids import Sku
from b2bcore.storage._uow import DocumentUnitOfWork
from b2bcore.testing.contracts import _company, _unit
from tests.unit.storage.conftest import Store


def _stored(store: Store, company: Company) -> tuple[str | None, list[str]]:
    """The company's stored name (None: not there) and its units' ids."""
    with store.unit_of_work() as uow:
        try:
            name: str | None = uow.companies.get(company.id).name
        except NotFoundError:
            name = None
        units = [str(u.id) for u in uow.business_units.list(company_id=company.id).items]
    return name, units


def _uow(store: Store) -> DocumentUnitOfWork:
    uow = store.unit_of_work()
    assert isinstance(uow, DocumentUnitOfWork)
    return uow


def test_writes_in_a_batch_are_stored_and_read_back_inside_it(store: Store) -> None:
    company = _company()
    with _uow(store) as uow:
        uow.companies.add(company)
        uow.commit()
    with _uow(store) as uow:
        current = uow.companies.get(company.id)
        with uow.batched():
            current.name = "ACME Corp"
            uow.companies.update(current)
            uow.business_units.add(_unit(company, "hq"))
            uow.business_units.add(_unit(company, "plant"))
            # A read inside the block sees what the block wrote so far.
            assert uow.companies.get(company.id).name == "ACME Corp"
            uow.business_units.add(_unit(company, "office"))
        assert current.version == 2
        uow.commit()
    assert _stored(store, company) == ("ACME Corp", ["hq", "office", "plant"])


def test_a_duplicate_in_a_batch_rolls_the_whole_unit_back(store: Store) -> None:
    company = _company()
    with _uow(store) as uow:
        uow.companies.add(company)
        uow.business_units.add(_unit(company, "hq"))
        uow.commit()
    with _uow(store) as uow:
        current = uow.companies.get(company.id)
        current.name = "renamed before the block"
        uow.companies.update(current)
        with pytest.raises(DuplicateError), uow.batched():
            uow.business_units.add(_unit(company, "plant"))
            uow.business_units.add(_unit(company, "hq"))  # taken
            uow.business_units.add(_unit(company, "office"))
        uow.commit()  # commits nothing: the unit was rolled back
    assert _stored(store, company) == ("ACME", ["hq"])


def test_a_stale_update_in_a_batch_rolls_the_whole_unit_back(store: Store) -> None:
    company = _company()
    with _uow(store) as uow:
        uow.companies.add(company)
        uow.commit()
    with _uow(store) as uow:
        stale = uow.companies.get(company.id)
    with _uow(store) as uow:
        fresh = uow.companies.get(company.id)
        fresh.name = "changed meanwhile"
        uow.companies.update(fresh)
        uow.commit()
    with _uow(store) as uow:
        with pytest.raises(ConcurrencyError), uow.batched():
            uow.business_units.add(_unit(company, "hq"))
            stale.name = "lost update"
            uow.companies.update(stale)
        uow.commit()
    assert _stored(store, company) == ("changed meanwhile", [])


def test_any_error_in_a_batch_rolls_the_unit_back(store: Store) -> None:
    company = _company()
    with _uow(store) as uow:
        uow.companies.add(company)
        with pytest.raises(RuntimeError), uow.batched():
            uow.business_units.add(_unit(company, "hq"))
            raise RuntimeError("the caller failed half way")
        uow.commit()
    assert _stored(store, company) == (None, [])
    with _uow(store) as uow:  # the store is fine afterwards
        uow.companies.add(company)
        with uow.batched():
            uow.business_units.add(_unit(company, "hq"))
        uow.commit()
    assert _stored(store, company) == ("ACME", ["hq"])


def test_stock_levels_of_several_skus_in_one_read_equal_one_read_each(store: Store) -> None:
    with _uow(store) as uow:
        for sku, location, on_hand in (
            ("SEAL-7", "leipzig", 3),
            ("SEAL-7", "berlin", 2),
            ("PUMP-1", "leipzig", 1),
            ("HOSE-3", "wien", 9),
        ):
            uow.stock_levels.add(StockLevel(sku=sku, location=location, on_hand=on_hand))
        uow.commit()
    asked = [Sku("SEAL-7"), Sku("NOPE"), Sku("PUMP-1"), Sku("SEAL-7")]
    with _uow(store) as uow:
        found = uow.stock_levels.for_skus(asked)
        assert set(found) == {"SEAL-7", "NOPE", "PUMP-1"}
        for sku in asked:
            assert found[sku] == uow.stock_levels.for_sku(sku)
        assert [lv.location for lv in found[Sku("SEAL-7")]] == ["berlin", "leipzig"]
        assert uow.stock_levels.for_skus([]) == {}
