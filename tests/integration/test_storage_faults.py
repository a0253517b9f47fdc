"""Faults on the SQL stores (SQLite, and PostgreSQL when ``B2BCORE_POSTGRES_DSN`` is set).

* an exception in the middle of a unit of work leaves nothing of it;
* a process killed (SIGKILL) inside a unit of work, before or while committing,
  leaves every unit whole or absent, and every acknowledged commit present;
* after such a crash every committed event is still delivered, at least once;
* a request made with an idempotency key does its work exactly once, however often
  it is retried and however many threads or processes send it at the same time.

The crashing and competing processes are this module run as a script
(:func:`child_main`), so they use exactly the helpers the tests use.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import IO

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from b2bcore.accounts.model import (
    BusinessUnit,
    Company,
    CompanyCreated,
    CompanyUser,
    UserInvited,
)
from b2bcore.audit import AuditEntry, Outcome
from b2bcore.errors import ConcurrencyError, ConflictError, DuplicateError, NotFoundError
from b2bcore.events import DomainEvent, OutboxRecord, OutboxStatus
from b2bcore.ids import BusinessUnitId, CompanyId, UserId
from b2bcore.paging import iterate
from b2bcore.serialization import event_from_record
from b2bcore.storage.dispatch import dispatch
from b2bcore.storage.ports import Store
from b2bcore.storage.sqlite import SQLiteStore

DSN = os.environ.get("B2BCORE_POSTGRES_DSN", "")
AT = datetime(2026, 3, 29, 8, 0, tzinfo=UTC)
USERS_PER_UNIT = 3
#: Events one unit of work of :func:`write_unit` records: the company's and each user's.
EVENTS_PER_UNIT = 1 + USERS_PER_UNIT

needs_server = pytest.mark.skipif(
    not DSN,
    reason="B2BCORE_POSTGRES_DSN is not set: no PostgreSQL server to test against "
    "(.ci/run starts one; or set it to e.g. postgresql://user@127.0.0.1:5432/b2bcore)",
)


# -- the stores --------------------------------------------------------------------------
@attrs.frozen
class Backend:
    """Where a store lives, so that this process and child processes open the same one."""

    kind: str  # "sqlite" or "postgres"
    target: str  # a file path or a DSN
    schema: str = ""

    def open(self) -> Store:
        return open_store(self.kind, self.target, self.schema)

    def args(self) -> list[str]:
        return [self.kind, self.target, self.schema]


def open_store(kind: str, target: str, schema: str) -> Store:
    if kind == "sqlite":
        return SQLiteStore(target)
    from b2bcore.storage.postgres import PostgresStore

    return PostgresStore(target, schema=schema)


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=[needs_server, pytest.mark.postgres])]
)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        yield Backend("sqlite", str(tmp_path / "faults.sqlite"))
        return
    name = f"b2b_faults_{uuid.uuid4().hex[:16]}"
    yield Backend("postgres", DSN, name)
    import psycopg

    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture
def store(backend: Backend) -> Iterator[Store]:
    s = backend.open()
    yield s
    s.close()


# -- what the units of work write --------------------------------------------------------
def write_unit(store: Store, company_id: str, *, before_commit: Callable[[], object] = str) -> None:
    """One unit: a company, its root unit, users (each with an event), an audit line."""
    company = Company(id=CompanyId(company_id), name=f"Company {company_id}")
    company.record(CompanyCreated(company_id=company.id, occurred_at=AT, name=company.name))
    with store.unit_of_work() as uow:
        uow.companies.add(company)
        uow.business_units.add(
            BusinessUnit(id=BusinessUnitId("hq"), company_id=company.id, name="HQ")
        )
        for n in range(USERS_PER_UNIT):
            user = CompanyUser(
                id=UserId(f"u{n}"),
                company_id=company.id,
                email=f"u{n}@{company_id}.example",
                name=f"User {n}",
                business_unit_ids=(BusinessUnitId("hq"),),
            )
            user.record(
                UserInvited(
                    company_id=company.id, occurred_at=AT, user_id=user.id, email=user.email
                )
            )
            uow.users.add(user)
        uow.audit.append(_audit(company_id, "company.create", company_id))
        before_commit()
        uow.commit()


def _audit(company_id: str, action: str, target: str, detail: str = "") -> AuditEntry:
    return AuditEntry(
        company_id=CompanyId(company_id),
        at=AT,
        acted_by="u0",
        on_behalf_of="u0",
        action=action,
        target=target,
        outcome=Outcome.ALLOWED,
        detail=detail,
    )


def unit_state(store: Store, company_id: str) -> tuple[int, ...]:
    """How much of :func:`write_unit`'s unit for ``company_id`` is stored, per kind."""
    cid = CompanyId(company_id)
    with store.unit_of_work() as uow:
        try:
            uow.companies.get(cid)
            companies = 1
        except NotFoundError:
            companies = 0
        units = len(list(iterate(lambda c: uow.business_units.list(company_id=cid, cursor=c))))
        users = len(list(iterate(lambda c: uow.users.list(company_id=cid, cursor=c))))
        audit = len(list(iterate(lambda c: uow.audit.list(company_id=cid, cursor=c))))
        events = len(list(iterate(lambda c: uow.outbox.list(company_id=cid, cursor=c))))
    return (companies, units, users, audit, events)


def outbox_of(store: Store, company_id: str) -> list[OutboxRecord]:
    with store.unit_of_work() as uow:
        return list(iterate(lambda c: uow.outbox.list(company_id=CompanyId(company_id), cursor=c)))


WHOLE = (1, 1, USERS_PER_UNIT, 1, EVENTS_PER_UNIT)
ABSENT = (0, 0, 0, 0, 0)


def companies_of_run(store: Store, run: str) -> list[str]:
    with store.unit_of_work() as uow:
        every = iterate(lambda k: uow.companies.list(cursor=k))
        return [c.id for c in every if c.id.startswith(run)]


# -- idempotent requests -----------------------------------------------------------------
IDEMPOTENT_COMPANY = "co-requests"


def handle_request(
    store: Store, key: str, payload: str, *, before_commit: Callable[[], object] = str
) -> tuple[str, bool]:
    """Handle a request sent with idempotency key ``key``; return (result, did the work).

    The work (an audit line here, an order in real life) and the remembered result
    commit together. A duplicate claim that loses the race retries and then finds
    the winner's result.
    """
    for _ in range(100):
        try:
            with store.unit_of_work() as uow:
                done = uow.idempotency.recall(
                    key, company_id=CompanyId(IDEMPOTENT_COMPANY), fingerprint=payload
                )
                if done is not None:
                    return done, False
                result = f"handled-by-{os.getpid()}-{threading.get_ident()}"
                uow.audit.append(_audit(IDEMPOTENT_COMPANY, "request.handle", key, payload))
                uow.idempotency.remember(
                    key,
                    company_id=CompanyId(IDEMPOTENT_COMPANY),
                    fingerprint=payload,
                    result=result,
                    at=AT,
                )
                before_commit()
                uow.commit()
                return result, True
        except (DuplicateError, ConcurrencyError):
            continue  # someone else claimed the key meanwhile: look again
    raise AssertionError("a request kept losing races for 100 tries")


def times_handled(store: Store, key: str) -> int:
    with store.unit_of_work() as uow:
        entries = iterate(
            lambda c: uow.audit.list(
                company_id=CompanyId(IDEMPOTENT_COMPANY), action="request.handle", cursor=c
            )
        )
        return sum(1 for e in entries if e.target == key)


# -- child processes ---------------------------------------------------------------------
_RUN_THIS_MODULE = (
    "import importlib.util, sys\n"
    "spec = importlib.util.spec_from_file_location('b2bcore_storage_faults', sys.argv[1])\n"
    "module = importlib.util.module_from_spec(spec)\n"
    "spec.loader.exec_module(module)\n"
    "module.child_main(sys.argv[2:])\n"
)


def _say(line: str) -> None:
    print(line, flush=True)


def _wait_for_parent() -> None:
    sys.stdin.readline()


def _say_and_wait(line: str) -> None:
    """Tell the parent how far we are, then wait for it (to be killed, usually)."""
    _say(line)
    _wait_for_parent()


def child_main(argv: list[str]) -> None:
    """Entry point of the child processes: ``MODE KIND TARGET SCHEMA ARGS...``."""
    mode, kind, target, schema, *rest = argv
    store = open_store(kind, target, schema)
    if mode == "hang-before-commit":
        # Write a whole unit, say so, then wait (to be killed) before committing.
        write_unit(store, rest[0], before_commit=partial(_say_and_wait, "written"))
    elif mode == "commit-forever":
        # Commit unit after unit as fast as possible, acknowledging each commit.
        for i in range(100_000):
            write_unit(store, f"{rest[0]}-{i:06d}")
            _say(f"committed {rest[0]}-{i:06d}")
    elif mode == "commit-and-dispatch-forever":
        log = Path(rest[1])

        def deliver(event: DomainEvent) -> None:
            with log.open("a") as f:
                f.write(f"{event.event_id}\n")

        for i in range(100_000):
            write_unit(store, f"{rest[0]}-{i:06d}")
            _say(f"committed {rest[0]}-{i:06d}")
            dispatch(store, {DomainEvent: [deliver]}, limit=3)
    elif mode == "request-then-hang":
        handle_request(store, rest[0], rest[1], before_commit=partial(_say_and_wait, "working"))
    elif mode == "requests":
        _say("ready")
        _wait_for_parent()
        for key in rest[1:]:
            result, worked = handle_request(store, key, rest[0])
            _say(f"{key} {result} {'worked' if worked else 'replayed'}")
    else:  # pragma: no cover - a typo in a test
        raise SystemExit(f"unknown mode {mode!r}")
    store.close()


def spawn(backend: Backend, mode: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _RUN_THIS_MODULE, __file__, mode, *backend.args(), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_line(child: subprocess.Popen[str]) -> str:
    assert child.stdout is not None
    line = child.stdout.readline()
    if not line:  # the child ended: show why
        _, err = child.communicate(timeout=60)
        raise AssertionError(f"the child process ended early (exit {child.returncode}):\n{err}")
    return line.strip()


def kill(child: subprocess.Popen[str]) -> list[str]:
    """SIGKILL the child; return the lines it printed that were not read yet."""
    child.send_signal(signal.SIGKILL)
    out, _ = child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL
    return out.splitlines()


def _send(stream: IO[str] | None, line: str) -> None:
    assert stream is not None
    stream.write(line + "\n")
    stream.flush()


# -- an exception in the middle of a unit of work ----------------------------------------
class Boom(Exception):  # noqa: N818 - the name says what it is in these tests
    pass


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(fail_after=st.integers(min_value=0, max_value=8), commit_before=st.booleans())
def test_an_exception_mid_unit_leaves_nothing_of_it(
    store: Store, fail_after: int, commit_before: bool
) -> None:
    company_id = f"co-{uuid.uuid4().hex[:12]}"
    if commit_before:  # an earlier, committed unit of the same company stays as it was
        write_unit(store, company_id)
    before = unit_state(store, company_id)
    before_requests = times_handled(store, company_id)
    steps = 0

    def step() -> None:
        nonlocal steps
        if steps == fail_after:
            raise Boom
        steps += 1

    with pytest.raises(Boom), store.unit_of_work() as uow:
        step()
        other = Company(id=CompanyId(f"{company_id}-new"), name="New")
        other.record(CompanyCreated(company_id=other.id, occurred_at=AT, name="New"))
        uow.companies.add(other)
        step()
        uow.business_units.add(
            BusinessUnit(id=BusinessUnitId("plant"), company_id=CompanyId(company_id), name="P")
        )
        step()
        uow.audit.append(_audit(company_id, "company.rename", company_id))
        step()
        uow.idempotency.remember(
            company_id, company_id=CompanyId(IDEMPOTENT_COMPANY), fingerprint="f", result="r", at=AT
        )
        step()
        uow.audit.append(_audit(IDEMPOTENT_COMPANY, "request.handle", company_id))
        step()
        if commit_before:
            company = uow.companies.get(CompanyId(company_id))
            company.rename("Renamed")
            company.record(CompanyCreated(company_id=company.id, occurred_at=AT, name="again"))
            uow.companies.update(company)
        step()
        uow.outbox.add(CompanyCreated(company_id=CompanyId(company_id), occurred_at=AT, name="x"))
        step()
        raise Boom  # an exception after every write, just before the commit
    assert unit_state(store, company_id) == before
    assert unit_state(store, f"{company_id}-new") == ABSENT
    assert times_handled(store, company_id) == before_requests
    with store.unit_of_work() as uow:
        assert (
            uow.idempotency.recall(
                company_id, company_id=CompanyId(IDEMPOTENT_COMPANY), fingerprint="f"
            )
            is None
        )
        if commit_before:
            assert uow.companies.get(CompanyId(company_id)).name == f"Company {company_id}"


# -- a process killed inside a unit of work ----------------------------------------------
def test_a_process_killed_before_commit_leaves_no_partial_write(
    backend: Backend, store: Store
) -> None:
    company_id = f"co-{uuid.uuid4().hex[:12]}"
    child = spawn(backend, "hang-before-commit", company_id)
    assert read_line(child) == "written"  # every row written, nothing committed
    kill(child)
    assert unit_state(store, company_id) == ABSENT
    write_unit(store, company_id)  # the database is neither locked nor damaged
    assert unit_state(store, company_id) == WHOLE


def test_a_process_killed_while_committing_leaves_every_unit_whole_or_absent(
    backend: Backend, store: Store
) -> None:
    run = f"co-{uuid.uuid4().hex[:10]}"
    child = spawn(backend, "commit-forever", run)
    lines = [read_line(child) for _ in range(8)]
    lines += kill(child)  # somewhere in a unit: writing it, or committing it
    acknowledged = [line.split()[1] for line in lines if line.startswith("committed ")]
    found = companies_of_run(store, run)
    assert set(acknowledged) <= set(found)
    for company_id in found:
        assert unit_state(store, company_id) == WHOLE, company_id
    # At most the one unit in flight committed without being acknowledged; the next
    # one never began.
    assert len(found) in (len(acknowledged), len(acknowledged) + 1)
    unborn = f"{run}-{len(acknowledged) + 1:06d}"
    assert unit_state(store, unborn) == ABSENT
    in_flight = f"{run}-{len(acknowledged):06d}"
    assert unit_state(store, in_flight) in (WHOLE, ABSENT)


def test_committed_events_are_delivered_at_least_once_after_a_crash(
    backend: Backend, store: Store, tmp_path: Path
) -> None:
    run = f"co-{uuid.uuid4().hex[:10]}"
    log = tmp_path / "delivered-by-the-child.log"
    child = spawn(backend, "commit-and-dispatch-forever", run, str(log))
    lines = [read_line(child) for _ in range(6)]
    lines += kill(child)  # committing, dispatching, or between a delivery and its mark
    acknowledged = [line.split()[1] for line in lines if line.startswith("committed ")]
    by_child = set(log.read_text().split()) if log.exists() else set()
    by_us: list[str] = []
    while dispatch(store, {DomainEvent: [lambda e: by_us.append(e.event_id)]}).delivered:
        pass
    found = companies_of_run(store, run)
    assert set(acknowledged) <= set(found)
    records = [r for company_id in found for r in outbox_of(store, company_id)]
    assert len(records) == EVENTS_PER_UNIT * len(found)
    assert all(r.status is OutboxStatus.DELIVERED for r in records)
    # Every committed event reached a subscriber: the ones the child had not marked
    # delivered through us, the others through the child (its handler ran before
    # it marked them), some possibly through both.
    for record in records:
        event_id = event_from_record(record).event_id
        assert event_id in by_child or event_id in by_us, record


# -- idempotency: retries and concurrent duplicates --------------------------------------
def test_a_request_retried_after_a_crash_does_its_work_once(backend: Backend, store: Store) -> None:
    key = f"req-{uuid.uuid4().hex[:12]}"
    child = spawn(backend, "request-then-hang", key, "order 42")
    assert read_line(child) == "working"
    kill(child)  # the work and the key were written, not committed
    assert times_handled(store, key) == 0
    first, worked = handle_request(store, key, "order 42")  # the client retries
    assert worked
    again, worked_again = handle_request(store, key, "order 42")  # and retries again
    assert (again, worked_again) == (first, False)
    assert times_handled(store, key) == 1
    with pytest.raises(ConflictError, match="different request"):
        handle_request(store, key, "order 43")


def test_threads_sending_one_request_at_once_do_the_work_once(store: Store) -> None:
    keys = [f"req-{uuid.uuid4().hex[:12]}" for _ in range(3)]
    workers = 6
    barrier = threading.Barrier(workers)
    results: list[list[tuple[str, bool]]] = [[] for _ in range(workers)]
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            for key in keys:
                results[i].append(handle_request(store, key, "order"))
        except Exception as e:
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    for n, key in enumerate(keys):
        answers = [results[i][n] for i in range(workers)]
        assert len({result for result, _ in answers}) == 1, answers
        assert sum(worked for _, worked in answers) == 1, answers
        assert times_handled(store, key) == 1


def test_processes_sending_one_request_at_once_do_the_work_once(
    backend: Backend, store: Store
) -> None:
    keys = [f"req-{uuid.uuid4().hex[:12]}" for _ in range(5)]
    children = [spawn(backend, "requests", "order", *keys) for _ in range(4)]
    for child in children:
        assert read_line(child) == "ready"
    for child in children:  # released together
        _send(child.stdin, "go")
    answers: dict[str, list[tuple[str, str]]] = {key: [] for key in keys}
    for child in children:
        for _ in keys:
            key, result, how = read_line(child).split()
            answers[key].append((result, how))
        _, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
    for key in keys:
        assert len({result for result, _ in answers[key]}) == 1, answers[key]
        assert [how for _, how in answers[key]].count("worked") == 1, answers[key]
        assert times_handled(store, key) == 1
        with store.unit_of_work() as uow:
            stored = uow.idempotency.recall(
                key, company_id=CompanyId(IDEMPOTENT_COMPANY), fingerprint="order"
            )
        assert stored == answers[key][0][0]


def test_the_child_helpers_run_in_this_process_too(backend: Backend, store: Store) -> None:
    # handle_request and write_unit are what the children run: check them directly,
    # so a failure in a child is not a bug of the helpers.
    company_id = f"co-{uuid.uuid4().hex[:12]}"
    write_unit(store, company_id)
    assert unit_state(store, company_id) == WHOLE
    with pytest.raises(DuplicateError):
        write_unit(store, company_id)
    assert unit_state(store, company_id) == WHOLE
    result, worked = handle_request(store, company_id, "p")
    assert worked
    assert handle_request(store, company_id, "p") == (result, False)
    assert backend.args()[0] in ("sqlite", "postgres")
