"""MemoryStore specifics, corrupt rows, and the outbox dispatcher's edge cases."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from b2bcore.accounts import Company, CompanyCreated
from b2bcore.clock import FixedClock
from b2bcore.errors import StorageError, ValidationError
from b2bcore.events import DomainEvent, OutboxStatus
from b2bcore.ids import CompanyId
from b2bcore.storage import dispatch
from b2bcore.storage.memory import MemoryStore
from b2bcore.storage.sqlite import SQLiteStore

AT = datetime(2026, 5, 1, 12, tzinfo=UTC)


def _company_with_event(cid: str) -> Company:
    company = Company(id=CompanyId(cid), name=cid.upper())
    company.record(CompanyCreated(company_id=company.id, occurred_at=AT, name=company.name))
    return company


def test_memory_store_closed_refuses_work() -> None:
    store = MemoryStore()
    uow = store.unit_of_work()
    store.close()
    with pytest.raises(StorageError, match="closed"), uow:
        pass


def test_memory_store_commit_after_close_is_refused() -> None:
    store = MemoryStore()
    with store.unit_of_work() as uow:
        uow.companies.add(Company(id=CompanyId("a"), name="A"))
        store.close()
        with pytest.raises(StorageError, match="closed"):
            uow.commit()


def test_returned_aggregates_are_copies_not_shared_state() -> None:
    store = MemoryStore()
    company = Company(id=CompanyId("a"), name="A")
    with store.unit_of_work() as uow:
        uow.companies.add(company)
        uow.commit()
    company.name = "mutated after commit"
    with store.unit_of_work() as uow:
        loaded = uow.companies.get(CompanyId("a"))
        loaded.name = "mutated without update"
    with store.unit_of_work() as uow:
        assert uow.companies.get(CompanyId("a")).name == "A"


def test_a_corrupt_stored_document_raises_storage_error(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    with SQLiteStore(path) as store, store.unit_of_work() as uow:
        uow.companies.add(Company(id=CompanyId("a"), name="A"))
        uow.commit()
    conn = sqlite3.connect(path)
    conn.execute("""UPDATE companies SET doc = '{"id": "a", "name": 42}'""")
    conn.commit()
    conn.close()
    with (
        SQLiteStore(path) as store,
        store.unit_of_work() as uow,
        pytest.raises(StorageError, match="cannot be read back"),
    ):
        uow.companies.get(CompanyId("a"))


def test_dispatch_rejects_bad_max_attempts() -> None:
    with pytest.raises(ValidationError, match="max_attempts"):
        dispatch(MemoryStore(), {}, max_attempts=0)


def test_dispatch_respects_limit_and_marks_unsubscribed_events_delivered() -> None:
    store = MemoryStore()
    with store.unit_of_work() as uow:
        for cid in ("a", "b", "c"):
            uow.companies.add(_company_with_event(cid))
        uow.commit()
    clock = FixedClock(AT)
    first = dispatch(store, {}, clock=clock, limit=2)
    second = dispatch(store, {}, clock=clock, limit=2)
    third = dispatch(store, {}, clock=clock, limit=2)
    assert (first.delivered, second.delivered, third.delivered) == (2, 1, 0)
    with store.unit_of_work() as uow:
        records = list(uow.outbox.list(company_id=CompanyId("a")))
    assert [r.status for r in records] == [OutboxStatus.DELIVERED]
    assert records[0].delivered_at == AT


def test_one_failing_handler_does_not_block_other_events() -> None:
    store = MemoryStore()
    with store.unit_of_work() as uow:
        uow.companies.add(_company_with_event("bad"))
        uow.companies.add(_company_with_event("good"))
        uow.commit()
    delivered: list[str] = []

    def handler(event: DomainEvent) -> None:
        if event.company_id == "bad":
            raise ValueError("cannot handle bad")
        delivered.append(event.company_id)

    report = dispatch(store, {CompanyCreated: [handler]})
    assert (report.delivered, report.failed, report.dead) == (1, 1, 0)
    assert delivered == ["good"]
    with store.unit_of_work() as uow:
        (bad,) = uow.outbox.list(company_id=CompanyId("bad"))
    assert bad.status is OutboxStatus.PENDING
    assert bad.attempts == 1
    assert bad.last_error == "ValueError: cannot handle bad"
