"""Storage ports: the unit of work and the repositories every adapter provides.

A :class:`Store` makes units of work. A :class:`UnitOfWork` is a context manager
with one attribute per repository; nothing is written until :meth:`~UnitOfWork.commit`
and leaving the block without committing (or with an exception) rolls everything
back::

    with store.unit_of_work() as uow:
        company = uow.companies.get(company_id)
        company.rename("ACME Industrial")
        uow.companies.update(company)
        uow.commit()

Events recorded by aggregates passed to ``add``/``update`` go to ``uow.outbox`` in
the same transaction. ``uow.audit`` is the append-only audit trail and
``uow.idempotency`` remembers the result of requests made with an idempotency key.

The repository protocols of each context live in that context's ``ports`` module.
"""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from b2bcore.accounts.ports import (
    AgentRepository,
    AssistedSessionRepository,
    BusinessUnitRepository,
    CompanyRepository,
    RoleRepository,
    UserRepository,
)
from b2bcore.approvals.ports import (
    ApprovalFlowRepository,
    ApprovalPolicyRepository,
    BudgetRepository,
    DelegationRepository,
)
from b2bcore.assets.ports import AssetRepository
from b2bcore.audit import AuditEntry, Outcome
from b2bcore.catalog.ports import (
    AssortmentRepository,
    CategoryRepository,
    ProductRelationRepository,
    ProductRepository,
    RelationRuleRepository,
    ReservationRepository,
    StockLevelRepository,
)
from b2bcore.claims.ports import ClaimMessageRepository, ClaimRepository, ClaimTallyRepository
from b2bcore.documents.ports import DocumentRepository
from b2bcore.events import DomainEvent, OutboxRecord, OutboxStatus
from b2bcore.ids import CompanyId
from b2bcore.orders.ports import (
    CartRepository,
    InvoiceRepository,
    OrderRepository,
    SalesQuoteRepository,
    ShipmentRepository,
    ShoppingListRepository,
)
from b2bcore.paging import DEFAULT_LIMIT, Page
from b2bcore.pricing.ports import PriceListRepository
from b2bcore.scheduling.ports import (
    BookingRepository,
    ResourceRepository,
    ServiceTypeRepository,
)

__all__ = ["AuditLog", "IdempotencyStore", "Outbox", "Store", "UnitOfWork"]


class Outbox(Protocol):
    """Events waiting for delivery, written in the same transaction as the change."""

    def add(self, event: DomainEvent, /) -> OutboxRecord:
        """Queue ``event`` (the unit of work does this for aggregates' events)."""
        ...

    def pending(self, *, limit: int = DEFAULT_LIMIT) -> list[OutboxRecord]:
        """Undelivered records of every company, oldest first (for the dispatcher)."""
        ...

    def mark_delivered(self, record: OutboxRecord, /, *, at: datetime) -> None:
        """Mark ``record`` (as read) delivered; ConcurrencyError if someone else did."""
        ...

    def mark_failed(self, record: OutboxRecord, /, *, error: str, dead: bool = False) -> None:
        """Count a failed delivery attempt; ``dead`` stops further attempts."""
        ...

    def list(
        self,
        *,
        company_id: CompanyId,
        status: OutboxStatus | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[OutboxRecord]:
        """One company's records, oldest first."""
        ...


class AuditLog(Protocol):
    """The append-only audit trail, queryable per company."""

    def append(self, entry: AuditEntry, /) -> None:
        """Add an entry."""
        ...

    def list(
        self,
        *,
        company_id: CompanyId,
        acted_by: str | None = None,
        action: str | None = None,
        outcome: Outcome | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[AuditEntry]:
        """Entries of one company in time order; ``since`` inclusive, ``until`` exclusive."""
        ...


class IdempotencyStore(Protocol):
    """Results of requests made with an idempotency key, per company.

    ``fingerprint`` identifies the request's content: reusing a key for a different
    request is a :class:`~b2bcore.errors.ConflictError`, never a silent replay.
    """

    def recall(self, key: str, /, *, company_id: CompanyId, fingerprint: str) -> str | None:
        """The stored result for ``key``, or None if the key is new."""
        ...

    def remember(
        self, key: str, /, *, company_id: CompanyId, fingerprint: str, result: str, at: datetime
    ) -> None:
        """Store ``result`` for ``key``; DuplicateError if the key was stored already."""
        ...


class UnitOfWork(Protocol):
    """One atomic piece of work over every repository."""

    @property
    def companies(self) -> CompanyRepository:
        """Companies."""
        ...

    @property
    def business_units(self) -> BusinessUnitRepository:
        """Business units."""
        ...

    @property
    def users(self) -> UserRepository:
        """Company users."""
        ...

    @property
    def roles(self) -> RoleRepository:
        """Roles of each company."""
        ...

    @property
    def agents(self) -> AgentRepository:
        """Seller-side agents (platform-wide)."""
        ...

    @property
    def assisted_sessions(self) -> AssistedSessionRepository:
        """Assisted-buying sessions."""
        ...

    @property
    def price_lists(self) -> PriceListRepository:
        """Price lists and their rules (platform-wide)."""
        ...

    @property
    def categories(self) -> CategoryRepository:
        """The category tree (platform-wide)."""
        ...

    @property
    def products(self) -> ProductRepository:
        """Products by SKU (platform-wide)."""
        ...

    @property
    def assortments(self) -> AssortmentRepository:
        """What each buyer company and business unit may buy."""
        ...

    @property
    def product_relations(self) -> ProductRelationRepository:
        """Explicit relations between products (platform-wide)."""
        ...

    @property
    def relation_rules(self) -> RelationRuleRepository:
        """Rule-based relations (platform-wide)."""
        ...

    @property
    def stock_levels(self) -> StockLevelRepository:
        """Stock per SKU and location (platform-wide)."""
        ...

    @property
    def reservations(self) -> ReservationRepository:
        """Stock reserved for each company's orders."""
        ...

    @property
    def carts(self) -> CartRepository:
        """Each company's carts."""
        ...

    @property
    def orders(self) -> OrderRepository:
        """Each company's orders."""
        ...

    @property
    def shipments(self) -> ShipmentRepository:
        """Shipments of the orders."""
        ...

    @property
    def invoices(self) -> InvoiceRepository:
        """Invoices of the orders."""
        ...

    @property
    def sales_quotes(self) -> SalesQuoteRepository:
        """Sales quotes (requests for quotation; not price quotes)."""
        ...

    @property
    def shopping_lists(self) -> ShoppingListRepository:
        """Saved shopping lists of users and business units."""
        ...

    @property
    def approval_policies(self) -> ApprovalPolicyRepository:
        """Each company's approval policy."""
        ...

    @property
    def approval_flows(self) -> ApprovalFlowRepository:
        """Approval flows of carts, orders and quotes."""
        ...

    @property
    def budgets(self) -> BudgetRepository:
        """Budgets per business unit or cost center."""
        ...

    @property
    def delegations(self) -> DelegationRepository:
        """Approvers' delegations to colleagues."""
        ...

    @property
    def service_types(self) -> ServiceTypeRepository:
        """The seller's service types (platform-wide)."""
        ...

    @property
    def resources(self) -> ResourceRepository:
        """The seller's technicians, bays and other resources (platform-wide)."""
        ...

    @property
    def bookings(self) -> BookingRepository:
        """Each company's service appointments, and who occupies which resource when."""
        ...

    @property
    def assets(self) -> AssetRepository:
        """Each company's installed assets."""
        ...

    @property
    def claims(self) -> ClaimRepository:
        """Each company's claims."""
        ...

    @property
    def claim_messages(self) -> ClaimMessageRepository:
        """The conversation of each claim."""
        ...

    @property
    def claim_tallies(self) -> ClaimTallyRepository:
        """What the claims hold of each order's lines."""
        ...

    @property
    def documents(self) -> DocumentRepository:
        """Documents of each company, and the seller's platform-wide ones."""
        ...

    @property
    def outbox(self) -> Outbox:
        """Events waiting for delivery."""
        ...

    @property
    def audit(self) -> AuditLog:
        """The audit trail."""
        ...

    @property
    def idempotency(self) -> IdempotencyStore:
        """Results of idempotent requests."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None:
        """Make every change of this unit durable, atomically."""
        ...

    def rollback(self) -> None:
        """Discard every change made since the last commit."""
        ...


class Store(Protocol):
    """A storage backend: makes units of work."""

    def unit_of_work(self) -> UnitOfWork:
        """A new unit of work (use it as a context manager)."""
        ...

    def close(self) -> None:
        """Release connections; the store cannot be used afterwards."""
        ...
