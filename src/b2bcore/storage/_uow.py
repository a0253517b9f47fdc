"""The unit of work shared by b2bcore's own adapters (private)."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from b2bcore.errors import B2BCoreError, StorageError
from b2bcore.storage._documents import Session
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

    def _require_open(self) -> None:
        if not self._open:
            raise StorageError("use the unit of work inside a 'with' block")

    def commit(self) -> None:
        """Make every change durable, atomically."""
        self._require_open()
        try:
            self.session.commit()
        except B2BCoreError:
            self.session.rollback()
            raise

    def rollback(self) -> None:
        """Discard the changes made since the last commit."""
        self._require_open()
        self.session.rollback()
