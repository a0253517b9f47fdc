"""The unit of work shared by b2bcore's own adapters (private)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Any, Self

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


class DocumentUnitOfWork:
    """A unit of work whose repositories all run on one :class:`Session`.

    Adapters subclass it and provide ``_open_session``; repositories are declared
    once, here, for every adapter.
    """

    session: Session

    def __init__(self) -> None:
        self._open = False
        self._deferred: dict[str, tuple[Collection[Any], list[StoredRow]]] = {}
        self.companies = CompanyDocuments(self)
        self.business_units = BusinessUnitDocuments(self)
        self.users = UserDocuments(self)
        self.roles = RoleDocuments(self)
        self.agents = AgentDocuments(self)
        self.assisted_sessions = AssistedSessionDocuments(self)
        self.price_lists = PriceListDocuments(self)
        self.categories = CategoryDocuments(self)
        self.products = ProductDocuments(self)
        self.assortments = AssortmentDocuments(self)
        self.product_relations = ProductRelationDocuments(self)
        self.relation_rules = RelationRuleDocuments(self)
        self.stock_levels = StockLevelDocuments(self)
        self.reservations = ReservationDocuments(self)
        self.carts = CartDocuments(self)
        self.orders = OrderDocuments(self)
        self.shipments = ShipmentDocuments(self)
        self.invoices = InvoiceDocuments(self)
        self.sales_quotes = SalesQuoteDocuments(self)
        self.shopping_lists = ShoppingListDocuments(self)
        self.approval_policies = ApprovalPolicyDocuments(self)
        self.approval_flows = ApprovalFlowDocuments(self)
        self.budgets = BudgetDocuments(self)
        self.delegations = DelegationDocuments(self)
        self.service_types = ServiceTypeDocuments(self)
        self.resources = ResourceDocuments(self)
        self.bookings = BookingDocuments(self)
        self.assets = AssetDocuments(self)
        self.claims = ClaimDocuments(self)
        self.claim_messages = ClaimMessageDocuments(self)
        self.claim_tallies = ClaimTallyDocuments(self)
        self.documents = FileDocuments(self)
        self.outbox = OutboxDocuments(self)
        self.audit = AuditDocuments(self)
        self.idempotency = IdempotencyDocuments(self)

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
