"""The unit of work shared by b2bcore's own adapters (private)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import Any, Generic, Self, TypeVar, overload

from b2bcore.errors import B2BCoreError, StorageError
from b2bcore.storage._documents import (
    Collection,
    DocumentRepository,
    Session,
    StoredRow,
    Wanted,
)
from b2bcore.storage._repositories import (
    AgentDocuments,
    ApprovalFlowDocuments,
    ApprovalPolicyDocuments,
    AssetDocuments,
    AssistedSessionDocuments,
    AssortmentDocuments,
    AuditDocuments,
    BookingDocuments,
    BudgetDocuments,
    BusinessUnitDocuments,
    CartDocuments,
    CategoryDocuments,
    ClaimDocuments,
    ClaimMessageDocuments,
    ClaimTallyDocuments,
    CompanyDocuments,
    DelegationDocuments,
    FileDocuments,
    IdempotencyDocuments,
    InvoiceDocuments,
    OrderDocuments,
    OutboxDocuments,
    PriceListDocuments,
    ProductDocuments,
    ProductRelationDocuments,
    RelationRuleDocuments,
    ReservationDocuments,
    ResourceDocuments,
    RoleDocuments,
    SalesQuoteDocuments,
    ServiceTypeDocuments,
    ShipmentDocuments,
    ShoppingListDocuments,
    StockLevelDocuments,
    UserDocuments,
)

__all__ = ["DocumentUnitOfWork"]

R = TypeVar("R")


class _Repository(Generic[R]):
    """A repository of a :class:`DocumentUnitOfWork`, made on first use (a unit of
    work uses a few of its thirty-odd repositories)."""

    def __init__(self, make: Callable[[DocumentUnitOfWork], R]) -> None:
        self._make = make
        self._name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, uow: None, owner: type) -> Self: ...
    @overload
    def __get__(self, uow: DocumentUnitOfWork, owner: type) -> R: ...
    def __get__(self, uow: DocumentUnitOfWork | None, owner: type) -> R | Self:
        if uow is None:
            return self
        made = uow.__dict__[self._name] = self._make(uow)  # later reads skip this
        return made


class DocumentUnitOfWork:
    """A unit of work whose repositories all run on one :class:`Session`.

    Adapters subclass it and provide ``_open_session``; repositories are declared
    once, here, for every adapter.
    """

    session: Session

    companies = _Repository(CompanyDocuments)
    business_units = _Repository(BusinessUnitDocuments)
    users = _Repository(UserDocuments)
    roles = _Repository(RoleDocuments)
    agents = _Repository(AgentDocuments)
    assisted_sessions = _Repository(AssistedSessionDocuments)
    price_lists = _Repository(PriceListDocuments)
    categories = _Repository(CategoryDocuments)
    products = _Repository(ProductDocuments)
    assortments = _Repository(AssortmentDocuments)
    product_relations = _Repository(ProductRelationDocuments)
    relation_rules = _Repository(RelationRuleDocuments)
    stock_levels = _Repository(StockLevelDocuments)
    reservations = _Repository(ReservationDocuments)
    carts = _Repository(CartDocuments)
    orders = _Repository(OrderDocuments)
    shipments = _Repository(ShipmentDocuments)
    invoices = _Repository(InvoiceDocuments)
    sales_quotes = _Repository(SalesQuoteDocuments)
    shopping_lists = _Repository(ShoppingListDocuments)
    approval_policies = _Repository(ApprovalPolicyDocuments)
    approval_flows = _Repository(ApprovalFlowDocuments)
    budgets = _Repository(BudgetDocuments)
    delegations = _Repository(DelegationDocuments)
    service_types = _Repository(ServiceTypeDocuments)
    resources = _Repository(ResourceDocuments)
    bookings = _Repository(BookingDocuments)
    assets = _Repository(AssetDocuments)
    claims = _Repository(ClaimDocuments)
    claim_messages = _Repository(ClaimMessageDocuments)
    claim_tallies = _Repository(ClaimTallyDocuments)
    documents = _Repository(FileDocuments)
    outbox = _Repository(OutboxDocuments)
    audit = _Repository(AuditDocuments)
    idempotency = _Repository(IdempotencyDocuments)

    def __init__(self) -> None:
        self._open = False
        self._deferred: dict[str, tuple[Collection[Any], list[StoredRow]]] = {}

    def _open_session(self) -> Session:
        raise NotImplementedError

    def __enter__(self) -> Self:
        if self._open:
            raise StorageError("this unit of work is already open; use a new one")
        self.session = self._open_session()
        self._deferred = {}
        self._open = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.session.close()
        finally:
            self._open = False
            self._deferred = {}

    def _require_open(self) -> None:
        if not self._open:
            raise StorageError("use the unit of work inside a 'with' block")

    def read_only_many(
        self, wanted: Sequence[tuple[object, str | None, str | None]], /
    ) -> list[tuple[Any, ...]] | None:
        """Several reads that only look, at once (one round trip on PostgreSQL): per
        ``(repository, company_id, key)`` the object with that key (a tuple of none
        or one) or, with key None, every object of the company. Objects may be
        shared (see ``b2bcore.storage._reads``). None when a repository is not
        one of b2bcore's own."""
        self._require_open()
        asked: list[Wanted] = []
        for repo, company_id, key in wanted:
            if not isinstance(repo, DocumentRepository):
                return None
            if repo.deferred:
                self.flush_deferred()
            asked.append((repo.collection, "" if company_id is None else company_id, key))
        found = self.session.fetch_all(asked)
        return [
            tuple(repo._from_row_shared(row) for row in rows)  # type: ignore[attr-defined]
            for (repo, _company, _key), rows in zip(wanted, found, strict=True)
        ]

    @contextlib.contextmanager
    def batched(self) -> Iterator[None]:
        """Writes inside the block may be sent together when it ends (PostgreSQL: one
        round trip) and are checked as one: a failed write (a duplicate, a stale
        version) raises at the latest when the block ends, or at the first read
        inside it. Whatever fails inside the block — a write or anything else —
        rolls the whole unit of work back before the error leaves the block, on
        every store. Stores that gain nothing by batching write at once."""
        self._require_open()
        begin = getattr(self.session, "begin_batch", None)
        end = getattr(self.session, "end_batch", None)
        if begin is not None:
            begin()
        try:
            yield
            if end is not None:
                end(apply=True)
        except BaseException:
            if end is not None:
                end(apply=False)
            self.rollback()
            raise

    def defer(self, c: Collection[Any], row: StoredRow, /) -> None:
        """Hold ``row`` back until the commit (see ``DocumentRepository.deferred``)."""
        self._require_open()
        self._deferred.setdefault(c.name, (c, []))[1].append(row)

    def flush_deferred(self) -> None:
        """Insert the rows held back so far."""
        self._require_open()
        pending, self._deferred = self._deferred, {}
        rows = [(c, row) for c, held in pending.values() for row in held]
        for i, (c, row) in enumerate(rows):
            try:
                self.session.insert(c, row)
            except BaseException:
                # That row is refused (as an insert of it at once would have been);
                # the ones after it stay held back for the commit.
                for later_c, later in rows[i + 1 :]:
                    self._deferred.setdefault(later_c.name, (later_c, []))[1].append(later)
                raise

    def commit(self) -> None:
        """Make every change durable, atomically."""
        self._require_open()
        pending, self._deferred = self._deferred, {}
        try:
            self.session.commit([(c, rows) for c, rows in pending.values()])
        except B2BCoreError:
            self.session.rollback()
            raise

    def rollback(self) -> None:
        """Discard the changes made since the last commit."""
        self._require_open()
        self._deferred = {}
        self.session.rollback()
