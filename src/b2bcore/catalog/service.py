"""Use-cases of the catalog context: keep the catalog, and let buyers browse it.

The catalog is the seller's: a platform operator saves categories, products,
relations, relation rules and stock levels (``operator_id=``); each change is checked
in the same unit of work it is written in (category cycles, successor loops,
variants one level deep, references to what does not exist) and audited in the
platform trail. Assortments belong to a buyer company: a platform operator sets the
company's (``Actor.operator_for``); the company's own administrators (permission
``company.manage``) may narrow a business unit's.

Buyers — users, or agents in an assisted session for one — see only their
assortment: listings, product pages, related products (with prices and reasons) and
availability leave out everything else, and reserving stock refuses what they may not
order with a :class:`~b2bcore.catalog.errors.NotOrderableError`. Their business unit
(default: the user's first) selects the unit assortments that apply.

Orders reserve stock in their own unit of work with
:func:`~b2bcore.catalog.inventory.reserve_stock`, after
:func:`~b2bcore.catalog.rules.check_orderable` on a :class:`StoredCatalog`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import attrs

from b2bcore._command import Command, execute, member_query, save_platform
from b2bcore.accounts.model import Actor, Permission
from b2bcore.accounts.rules import Resource, ancestors
from b2bcore.audit import PLATFORM_AUDIT, AuditEntry
from b2bcore.catalog.errors import CycleError
from b2bcore.catalog.inventory import release_stock, reserve_stock
from b2bcore.catalog.model import (
    Assortment,
    AssortmentRemoved,
    AssortmentSaved,
    Category,
    CategorySaved,
    Incoming,
    Product,
    ProductRelation,
    ProductRelationRemoved,
    ProductRelationSaved,
    ProductSaved,
    RelationRule,
    RelationRuleSaved,
    RelationType,
    Reservation,
    StockLevel,
    StockLevelSet,
)
from b2bcore.catalog.recommendations import (
    BasketModel,
    BuyAgainSuggestion,
    HistoricOrder,
    Suggestion,
    buy_again,
    frequently_bought_together,
)
from b2bcore.catalog.rules import (
    DEFAULT_LOW_STOCK,
    Availability,
    CatalogContext,
    RelatedProduct,
    _admits,
    assortment_refusal,
    availability,
    category_path,
    check_orderable,
    check_successors,
    price_item,
    related_products,
    subtree,
)
from b2bcore.catalog.stored import StoredCatalog, assortments_for, may_buy
from b2bcore.clock import Clock
from b2bcore.errors import (
    B2BCoreError,
    ConcurrencyError,
    DuplicateError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from b2bcore.events import Aggregate, DomainEvent
from b2bcore.ids import (
    BusinessUnitId,
    CategoryId,
    CompanyId,
    LocationId,
    Sku,
    UserId,
    as_id,
)
from b2bcore.money import is_currency
from b2bcore.paging import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Page,
    check_limit,
    decode_cursor,
    encode_cursor,
    iterate,
)
from b2bcore.pricing.model import PriceContext
from b2bcore.pricing.resolve import PriceIndex, PriceQuote, check_quantity, resolve_price
from b2bcore.storage.ports import UnitOfWork

__all__ = ["CatalogService"]

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")

#: How often :meth:`CatalogService.set_stock` retries when a reservation raced it.
_STOCK_RETRIES = 5


def _check_currency(currency: object) -> None:
    if not is_currency(currency):
        raise ValidationError(
            f"{currency!r} is not an ISO 4217 currency", path="currency", value=currency
        )


def _find(get: Callable[..., T], *key: Any, **kw: Any) -> T | None:
    """``get(*key, **kw)``, or None when it raises NotFoundError."""
    try:
        return get(*key, **kw)
    except NotFoundError:
        return None


def _require(value: object, kind: type[T], path: str) -> T:
    if not isinstance(value, kind):
        raise ValidationError(f"must be a {kind.__name__}", path=path, value=value)
    return value


def _missing(kind: str, key: str, role: str) -> NotFoundError:
    return NotFoundError(kind, key, f"{role} {kind} {key!r} does not exist; save it first")


def _successors_in(uow: UnitOfWork, override: dict[str, list[str]]) -> Callable[[str], list[str]]:
    """The successor graph as stored, with ``override`` replacing some nodes' edges."""

    def successors(sku: str) -> list[str]:
        if sku in override:
            return override[sku]
        out: list[str] = []
        product = _find(uow.products.get, Sku(sku))
        if product is not None and product.successor_sku is not None:
            out.append(product.successor_sku)
        out.extend(
            r.target_sku
            for r in uow.product_relations.from_sku(
                Sku(sku), relation_type=RelationType.REPLACEMENT
            )
            if r.source_sku == sku
        )
        return out

    return successors


def _tree_order(categories: Iterable[Category]) -> list[Category]:
    children: dict[str | None, list[Category]] = {}
    for c in categories:
        children.setdefault(c.parent_id, []).append(c)
    known = {c.id for group in children.values() for c in group}
    roots = [
        c
        for parent, group in children.items()
        if parent is None or parent not in known
        for c in group
    ]
    ordered: list[Category] = []
    stack = sorted(roots, key=lambda c: c.id, reverse=True)
    while stack:
        category = stack.pop()
        ordered.append(category)
        stack.extend(sorted(children.get(category.id, []), key=lambda c: c.id, reverse=True))
    return ordered


def _buyer_unit(
    uow: UnitOfWork, actor: Actor, unit: BusinessUnitId | None
) -> BusinessUnitId | None:
    """The unit a buyer acts in: the one named, else the user's first (for grants
    limited to a business unit)."""
    if unit is not None or not isinstance(actor, Actor) or actor.operator:
        return unit
    user = _find(uow.users.get, actor.on_behalf_of, company_id=actor.company_id)
    return None if user is None else user.business_unit_ids[0]


class CatalogService:
    """Catalog use-cases over any store (via a unit-of-work factory).

    ``price_index`` gives the compiled price lists of a currency (the portal passes
    :meth:`b2bcore.pricing.service.PricingService.index`, which caches them);
    without it the lists are loaded from the store for each call that needs prices.
    """

    def __init__(
        self,
        unit_of_work: Callable[[], UnitOfWork],
        clock: Clock,
        *,
        price_index: Callable[[str], PriceIndex] | None = None,
    ) -> None:
        self._uow = unit_of_work
        self._clock = clock
        self._price_index = price_index

    # -- the seller's catalog ---------------------------------------------------------
    def _save(
        self,
        *,
        operator_id: str,
        obj: A,
        kind: str,
        key: str,
        repository: Callable[[UnitOfWork], Any],
        stored: Callable[[UnitOfWork], A | None],
        check: Callable[[UnitOfWork], None],
        event: Callable[[datetime], DomainEvent],
        action: str,
    ) -> A:
        """Add or update a platform aggregate (see :func:`b2bcore._command.save_platform`)."""
        return save_platform(
            self._uow,
            self._clock,
            operator_id=operator_id,
            obj=obj,
            kind=kind,
            key=key,
            repository=repository,
            stored=stored,
            check=check,
            event=event,
            action=action,
        )

    def save_category(self, *, operator_id: str, category: Category) -> Category:
        """Create (version 0) or change a category. The parent must exist and the
        tree must not loop (:class:`~b2bcore.catalog.errors.CycleError`)."""
        category = _require(category, Category, "category")

        def check(uow: UnitOfWork) -> None:
            seen: list[str] = [category.id]
            current = category.parent_id
            while current is not None:
                if current in seen:
                    raise CycleError("categories", [*seen, current], path="parent_id")
                seen.append(current)
                parent = _find(uow.categories.get, CategoryId(current))
                if parent is None:
                    raise _missing("category", current, "parent")
                current = parent.parent_id

        return self._save(
            operator_id=operator_id,
            obj=category,
            kind="category",
            key=category.id,
            repository=lambda uow: uow.categories,
            stored=lambda uow: _find(uow.categories.get, category.id),
            check=check,
            event=lambda at: CategorySaved(
                company_id=PLATFORM_AUDIT,
                occurred_at=at,
                category_id=category.id,
                parent_id=category.parent_id,
            ),
            action="catalog.category.save",
        )

    def save_product(self, *, operator_id: str, product: Product) -> Product:
        """Create (version 0) or change a product.

        Checked in the same unit of work: its category exists; a variant's parent
        exists and is not itself a variant, and a product with variants does not
        become one; a successor exists and no chain of successors and replacement
        relations leads back to the product
        (:class:`~b2bcore.catalog.errors.CycleError`).
        """
        product = _require(product, Product, "product")
        product.check()

        def check(uow: UnitOfWork) -> None:
            category = product.category_id
            if category is not None and _find(uow.categories.get, category) is None:
                raise _missing("category", category, "the product's")
            if product.parent_sku is not None:
                parent = _find(uow.products.get, product.parent_sku)
                if parent is None:
                    raise _missing("product", product.parent_sku, "parent")
                if parent.parent_sku is not None:
                    raise ValidationError(
                        f"{parent.sku} is itself a variant of {parent.parent_sku}; variants are "
                        "one level deep: name the top product as parent",
                        path="parent_sku",
                        value=product.parent_sku,
                    )
                if uow.products.list(parent_sku=product.sku, limit=1).items:
                    raise ValidationError(
                        f"{product.sku} has variants itself, so it cannot become a variant",
                        path="parent_sku",
                        value=product.parent_sku,
                    )
            if product.successor_sku is not None:
                if _find(uow.products.get, product.successor_sku) is None:
                    raise _missing("product", product.successor_sku, "successor")
                own = _successors_in(uow, {})(product.sku)
                stored = _find(uow.products.get, product.sku)
                if stored is not None and stored.successor_sku is not None:
                    own.remove(stored.successor_sku)
                check_successors(
                    product.sku,
                    _successors_in(uow, {product.sku: [product.successor_sku, *own]}),
                )

        return self._save(
            operator_id=operator_id,
            obj=product,
            kind="product",
            key=product.sku,
            repository=lambda uow: uow.products,
            stored=lambda uow: _find(uow.products.get, product.sku),
            check=check,
            event=lambda at: ProductSaved(
                company_id=PLATFORM_AUDIT,
                occurred_at=at,
                sku=product.sku,
                lifecycle=product.lifecycle.value,
                successor_sku=product.successor_sku,
            ),
            action="catalog.product.save",
        )

    def save_relation(self, *, operator_id: str, relation: ProductRelation) -> ProductRelation:
        """Create (version 0) or change an explicit relation. Both products must
        exist; a replacement must not close a loop of successors and replacements."""
        relation = _require(relation, ProductRelation, "relation")

        def check(uow: UnitOfWork) -> None:
            for sku, role in ((relation.source_sku, "source"), (relation.target_sku, "target")):
                if _find(uow.products.get, sku) is None:
                    raise _missing("product", sku, role)
            if relation.type is RelationType.REPLACEMENT:
                edges = _successors_in(uow, {})(relation.source_sku)
                check_successors(
                    relation.source_sku,
                    _successors_in(uow, {relation.source_sku: [*edges, relation.target_sku]}),
                )

        return self._save(
            operator_id=operator_id,
            obj=relation,
            kind="product relation",
            key=relation.key,
            repository=lambda uow: uow.product_relations,
            stored=lambda uow: _find(
                lambda: uow.product_relations.get(
                    relation.source_sku, relation.type, relation.target_sku
                )
            ),
            check=check,
            event=lambda at: ProductRelationSaved(
                company_id=PLATFORM_AUDIT,
                occurred_at=at,
                source_sku=relation.source_sku,
                target_sku=relation.target_sku,
                relation_type=relation.type.value,
            ),
            action="catalog.relation.save",
        )

    def remove_relation(
        self,
        *,
        operator_id: str,
        source_sku: str,
        relation_type: RelationType | str,
        target_sku: str,
    ) -> ProductRelation:
        """Remove an explicit relation (NotFoundError if there is none); return it."""
        op = as_id(UserId, operator_id, path="operator_id")
        source = as_id(Sku, source_sku, path="source_sku")
        target = as_id(Sku, target_sku, path="target_sku")
        try:
            kind = RelationType(relation_type)
        except ValueError:
            raise ValidationError(
                f"{relation_type!r} is not a relation type",
                path="relation_type",
                value=relation_type,
            ) from None
        at = self._clock.now()
        with self._uow() as uow:
            relation = uow.product_relations.get(source, kind, target)
            relation.record(
                ProductRelationRemoved(
                    company_id=PLATFORM_AUDIT,
                    occurred_at=at,
                    source_sku=source,
                    target_sku=target,
                    relation_type=kind.value,
                )
            )
            uow.product_relations.remove(relation)
            uow.audit.append(
                AuditEntry.platform(
                    at=at,
                    operator_id=op,
                    action="catalog.relation.remove",
                    target=f"product_relation:{relation.key}",
                )
            )
            uow.commit()
        return relation

    def save_relation_rule(self, *, operator_id: str, rule: RelationRule) -> RelationRule:
        """Create (version 0) or change a rule-based relation; its categories must
        exist."""
        rule = _require(rule, RelationRule, "rule")

        def check(uow: UnitOfWork) -> None:
            for category, role in (
                (rule.target_category, "target"),
                (rule.source_category, "source"),
            ):
                if category is not None and (_find(uow.categories.get, category) is None):
                    raise _missing("category", category, role)

        return self._save(
            operator_id=operator_id,
            obj=rule,
            kind="relation rule",
            key=rule.id,
            repository=lambda uow: uow.relation_rules,
            stored=lambda uow: _find(uow.relation_rules.get, rule.id),
            check=check,
            event=lambda at: RelationRuleSaved(
                company_id=PLATFORM_AUDIT, occurred_at=at, rule_id=rule.id
            ),
            action="catalog.relation_rule.save",
        )

    def set_stock(
        self,
        *,
        operator_id: str,
        sku: str,
        location: str,
        on_hand: Decimal | int | str,
        incoming: Sequence[Incoming] = (),
    ) -> StockLevel:
        """Set what is on hand of ``sku`` at ``location`` and what is incoming there
        (a stock count or an ERP sync). The reserved quantity is kept; a
        reservation racing the update makes it retry on the fresh level."""
        op = as_id(UserId, operator_id, path="operator_id")
        code = as_id(Sku, sku, path="sku")
        where = as_id(LocationId, location, path="location")
        wanted = StockLevel(sku=code, location=where, on_hand=on_hand, incoming=incoming)
        for attempt in range(_STOCK_RETRIES):
            at = self._clock.now()
            try:
                with self._uow() as uow:
                    if _find(uow.products.get, code) is None:
                        raise _missing("product", code, "the stock's")
                    level = _find(uow.stock_levels.get, code, where)
                    fresh = level is None
                    if level is None:
                        level = attrs.evolve(wanted)
                    else:
                        level.on_hand, level.incoming = wanted.on_hand, wanted.incoming
                    level.record(
                        StockLevelSet(
                            company_id=PLATFORM_AUDIT,
                            occurred_at=at,
                            sku=code,
                            location=where,
                            on_hand=level.on_hand,
                        )
                    )
                    if fresh:
                        uow.stock_levels.add(level)
                    else:
                        uow.stock_levels.update(level)
                    uow.audit.append(
                        AuditEntry.platform(
                            at=at,
                            operator_id=op,
                            action="catalog.stock.set",
                            target=f"stock_level:{level.key}",
                            detail=f"on hand {level.on_hand}, incoming {len(level.incoming)}",
                        )
                    )
                    uow.commit()
                    return level
            except ConcurrencyError:
                if attempt == _STOCK_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    # -- reads for the seller and for embedding ---------------------------------------
    def product(self, sku: str) -> Product:
        """A stored product, whoever may buy it (NotFoundError if there is none)."""
        with self._uow() as uow:
            return uow.products.get(as_id(Sku, sku, path="sku"))

    def category_tree(self) -> list[Category]:
        """Every category, parents before children (then by id)."""
        with self._uow() as uow:
            every = list(iterate(lambda c: uow.categories.list(limit=MAX_LIMIT, cursor=c)))
        return _tree_order(every)

    def stock_levels(self, sku: str) -> list[StockLevel]:
        """Every location's stock of ``sku``, by location."""
        with self._uow() as uow:
            return uow.stock_levels.for_sku(as_id(Sku, sku, path="sku"))

    # -- assortments (per company) ----------------------------------------------------
    def save_assortment(self, actor: Actor, assortment: Assortment) -> Assortment:
        """Create (version 0) or change an assortment of the actor's company.

        The company's own assortment is the seller's to set: only a platform
        operator (``Actor.operator_for``) may. A business unit's assortment may also
        be set by whoever holds ``company.manage`` for that unit; it can only narrow
        what the company's admits. SKUs, products and categories named need not
        exist yet.
        """
        assortment = _require(assortment, Assortment, "assortment")
        cid = actor.company_id if isinstance(actor, Actor) else CompanyId("")
        unit = assortment.business_unit_id
        version = assortment.version

        def body(cmd: Command) -> Assortment:
            if assortment.company_id != cid:
                raise ValidationError(
                    f"the assortment is for {assortment.company_id}, the actor acts in {cid}",
                    path="company_id",
                    value=assortment.company_id,
                )
            if unit is None and not cmd.actor.operator:
                raise PermissionDeniedError(
                    "only a platform operator sets a company's own assortment; company "
                    "administrators may narrow a business unit's",
                    permission=Permission.COMPANY_MANAGE.value,
                    actor=cmd.actor.acted_by,
                    decision_code="operator_required",
                )
            if unit is not None and unit not in {u.id for u in cmd.access.units}:
                raise _missing("business unit", unit, "the assortment's")
            stored = _find(lambda: cmd.uow.assortments.get(company_id=cid, business_unit_id=unit))
            assortment.record(
                AssortmentSaved(company_id=cid, occurred_at=cmd.at, business_unit_id=unit)
            )
            if stored is None:
                if assortment.version != 0:
                    raise ConcurrencyError(
                        "assortment", assortment.key, expected_version=assortment.version
                    )
                cmd.uow.assortments.add(assortment)
            elif assortment.version == 0:
                raise DuplicateError(
                    "assortment",
                    assortment.key,
                    f"{assortment.describe()} already exists; read it and save the version "
                    "you read",
                )
            else:
                cmd.uow.assortments.update(assortment)
            return assortment

        try:
            return execute(
                self._uow,
                self._clock,
                actor,
                action="assortment.save",
                target=f"assortment:{assortment.key}",
                permission=Permission.COMPANY_MANAGE,
                resource=Resource("assortment", assortment.key, cid, business_unit_id=unit),
                body=body,
                detail=lambda a: a.describe(),
            )
        except B2BCoreError:
            assortment.pull_events()
            assortment.version = version
            raise

    def remove_assortment(self, actor: Actor, *, business_unit_id: str | None = None) -> Assortment:
        """Remove the company's (None) or a unit's assortment: that level then
        restricts nothing. Same permissions as :meth:`save_assortment`."""
        unit = (
            None
            if business_unit_id is None
            else as_id(BusinessUnitId, business_unit_id, path="business_unit_id")
        )
        cid = actor.company_id if isinstance(actor, Actor) else CompanyId("")

        def body(cmd: Command) -> Assortment:
            if unit is None and not cmd.actor.operator:
                raise PermissionDeniedError(
                    "only a platform operator removes a company's own assortment",
                    permission=Permission.COMPANY_MANAGE.value,
                    actor=cmd.actor.acted_by,
                    decision_code="operator_required",
                )
            assortment = cmd.uow.assortments.get(company_id=cid, business_unit_id=unit)
            assortment.record(
                AssortmentRemoved(company_id=cid, occurred_at=cmd.at, business_unit_id=unit)
            )
            cmd.uow.assortments.remove(assortment)
            return assortment

        key = "@company" if unit is None else unit
        return execute(
            self._uow,
            self._clock,
            actor,
            action="assortment.remove",
            target=f"assortment:{key}",
            permission=Permission.COMPANY_MANAGE,
            resource=Resource("assortment", key, cid, business_unit_id=unit),
            body=body,
        )

    def assortments(self, actor: Actor) -> list[Assortment]:
        """The actor's company's assortments (its own first, then by unit)."""

        def body(cmd: Command) -> list[Assortment]:
            uow, cid = cmd.uow, cmd.actor.company_id
            return list(
                iterate(lambda c: uow.assortments.list(company_id=cid, limit=MAX_LIMIT, cursor=c))
            )

        return member_query(
            self._uow, self._clock, actor, action="assortment.read", target="assortments", body=body
        )

    # -- buyers -----------------------------------------------------------------------
    @staticmethod
    def _scope(
        cmd: Command, business_unit_id: BusinessUnitId | None
    ) -> tuple[tuple[BusinessUnitId, ...], tuple[Assortment, ...]]:
        """The buyer's unit with its ancestors, and the assortments that apply."""
        units = cmd.access.units
        user = cmd.access.user
        own = list(user.business_unit_ids) if user is not None else []
        chosen = business_unit_id if business_unit_id is not None else (own[0] if own else None)
        chain: tuple[BusinessUnitId, ...] = ()
        if chosen is not None:
            if chosen not in {u.id for u in units}:
                raise NotFoundError("business unit", chosen)
            path = (chosen, *ancestors(units, chosen))
            if user is not None and not set(own) & set(path):
                raise ValidationError(
                    f"business unit {chosen!r} is not one of the user's units or below them",
                    path="business_unit_id",
                    value=chosen,
                )
            chain = path
        return chain, assortments_for(cmd.uow, cmd.actor.company_id, chain)

    @staticmethod
    def _unit(business_unit_id: str | None) -> BusinessUnitId | None:
        if business_unit_id is None:
            return None
        return as_id(BusinessUnitId, business_unit_id, path="business_unit_id")

    def _visible(self, cmd: Command, sku: Sku, unit: BusinessUnitId | None) -> Product:
        """The product if the buyer's assortment admits it, else NotFoundError."""
        _chain, assortments = self._scope(cmd, unit)
        product = cmd.uow.products.get(sku)
        path = category_path(product.category_id, StoredCatalog(cmd.uow))
        if assortment_refusal(product, assortments, category_path=path) is not None:
            raise NotFoundError("product", sku)
        return product

    def list_products(
        self,
        actor: Actor,
        *,
        category_id: str | None = None,
        business_unit_id: str | None = None,
        active_only: bool = True,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Product]:
        """The products the actor's assortment admits, by SKU, a page at a time:
        all of them, or those of ``category_id`` and the categories below it;
        discontinued ones too when ``active_only`` is false."""
        count = check_limit(limit)
        category = (
            None if category_id is None else as_id(CategoryId, category_id, path="category_id")
        )
        unit = self._unit(business_unit_id)
        if not isinstance(active_only, bool):
            raise ValidationError("must be True or False", path="active_only", value=active_only)

        def body(cmd: Command) -> Page[Product]:
            chain, assortments = self._scope(cmd, unit)
            catalog = StoredCatalog(cmd.uow)
            ids = None if category is None else sorted(subtree(category, catalog))
            describe = repr(
                ("catalog.products", cmd.actor.company_id, chain, category, active_only)
            )
            after: Sku | None = None
            if cursor is not None:
                position = decode_cursor(describe, cursor)
                if len(position) != 1 or not isinstance(position[0], str):
                    raise ValidationError("cursor does not match this query", path="cursor")
                after = Sku(position[0])
            admits = _admits(assortments, catalog)
            found: list[Product] = []
            chunk = min(MAX_LIMIT, max(count + 1, 100))
            while len(found) <= count:
                page = cmd.uow.products.list(category_ids=ids, after_sku=after, limit=chunk)
                for product in page.items:
                    after = product.sku
                    if (product.active or not active_only) and admits(product):
                        found.append(product)
                        if len(found) > count:
                            break
                if not page.has_more:
                    break
            items = tuple(found[:count])
            more = len(found) > count
            next_cursor = encode_cursor(describe, [items[-1].sku]) if more else None
            return Page(items=items, next_cursor=next_cursor)

        return member_query(
            self._uow, self._clock, actor, action="product.list", target="products", body=body
        )

    def get_product(
        self, actor: Actor, sku: str, *, business_unit_id: str | None = None
    ) -> Product:
        """A product the actor's assortment admits (discontinued ones included);
        NotFoundError for one outside it, exactly as for one that does not exist."""
        code = as_id(Sku, sku, path="sku")
        unit = self._unit(business_unit_id)
        return member_query(
            self._uow,
            self._clock,
            actor,
            action="product.read",
            target=f"product:{code}",
            body=lambda cmd: self._visible(cmd, code, unit),
        )

    def check_orderable(
        self, actor: Actor, sku: str, *, business_unit_id: str | None = None
    ) -> Product:
        """The product if the actor may order it, else
        :class:`~b2bcore.catalog.errors.NotOrderableError` (outside the assortment,
        or discontinued with the successor to suggest)."""
        code = as_id(Sku, sku, path="sku")
        unit = self._unit(business_unit_id)

        def body(cmd: Command) -> Product:
            _chain, assortments = self._scope(cmd, unit)
            catalog = StoredCatalog(cmd.uow)
            return check_orderable(cmd.uow.products.get(code), assortments, catalog=catalog)

        return member_query(
            self._uow,
            self._clock,
            actor,
            action="product.check",
            target=f"product:{code}",
            body=body,
        )

    def related_products(
        self,
        actor: Actor,
        sku: str,
        *,
        currency: str,
        types: Iterable[RelationType | str] | None = None,
        business_unit_id: str | None = None,
        channel: str | None = None,
        customer_groups: Sequence[str] = (),
        limit: int = 20,
    ) -> list[RelatedProduct]:
        """What goes with ``sku`` for the actor (:func:`~b2bcore.catalog.rules.related_products`):
        only what their assortment admits and they have a price for in ``currency``,
        each with its reason and their price (explanations without other buyers'
        lists). ``sku`` itself may be outside the assortment (an installed machine's
        model)."""
        code = as_id(Sku, sku, path="sku")
        unit = self._unit(business_unit_id)
        _check_currency(currency)
        # The cached index is read before the unit of work opens (it may open its own).
        cached = None if self._price_index is None else self._price_index(currency)

        def body(cmd: Command) -> list[RelatedProduct]:
            context, lists = self._pricing(
                cmd, unit, currency, cached, channel=channel, customer_groups=customer_groups
            )
            found = related_products(
                code, context, types, catalog=StoredCatalog(cmd.uow), lists=lists, limit=limit
            )
            return [
                attrs.evolve(
                    r, quote=attrs.evolve(r.quote, explanation=r.quote.explanation.for_buyer())
                )
                for r in found
            ]

        return member_query(
            self._uow,
            self._clock,
            actor,
            action="product.related",
            target=f"product:{code}",
            body=body,
        )

    # == recommendations ==================================================================
    def frequently_bought_together(
        self,
        actor: Actor,
        sku: str,
        *,
        model: BasketModel,
        limit: int = 5,
        business_unit_id: str | None = None,
    ) -> list[Suggestion]:
        """What other buyers bought with ``sku`` (see
        :func:`~b2bcore.catalog.recommendations.frequently_bought_together`; counted
        in ``model``), limited to active products the actor's assortment admits —
        each with its support, confidence, lift and reason. ``sku`` itself may be
        outside the assortment (an installed machine's model)."""
        code = as_id(Sku, sku, path="sku")
        unit = self._unit(business_unit_id)
        if not isinstance(model, BasketModel):
            raise ValidationError("must be a BasketModel", path="model", value=model)

        def body(cmd: Command) -> list[Suggestion]:
            _chain, assortments = self._scope(cmd, unit)
            allowed = may_buy(StoredCatalog(cmd.uow), assortments, active_only=True)
            return frequently_bought_together(model, code, limit=limit, allowed=allowed)

        return member_query(
            self._uow,
            self._clock,
            actor,
            action="product.bought_together",
            target=f"product:{code}",
            body=body,
        )

    def buy_again(
        self,
        actor: Actor,
        *,
        history: Iterable[HistoricOrder],
        limit: int = 10,
        business_unit_id: str | None = None,
    ) -> list[BuyAgainSuggestion]:
        """What the actor's company is due to reorder, from its purchase cadence in
        ``history`` (:func:`~b2bcore.catalog.recommendations.buy_again`, at the clock's
        now), limited to active products the actor's assortment admits."""
        unit = self._unit(business_unit_id)
        orders = list(history)

        def body(cmd: Command) -> list[BuyAgainSuggestion]:
            _chain, assortments = self._scope(cmd, unit)
            allowed = may_buy(StoredCatalog(cmd.uow), assortments, active_only=True)
            return buy_again(orders, at=cmd.at, limit=limit, allowed=allowed)

        return member_query(
            self._uow,
            self._clock,
            actor,
            action="product.buy_again",
            target=f"company:{actor.company_id}",
            body=body,
        )

    def quote(
        self,
        actor: Actor,
        sku: str,
        quantity: Decimal | int | str,
        *,
        currency: str,
        business_unit_id: str | None = None,
        channel: str | None = None,
        customer_groups: Sequence[str] = (),
    ) -> PriceQuote:
        """The actor's price for ``quantity`` of ``sku`` in ``currency`` — one call for
        a product page: the product must be in the actor's assortment (NotFoundError
        otherwise, as for one that does not exist), its quantity rule applies, and the
        explanation names no other buyer's lists."""
        code = as_id(Sku, sku, path="sku")
        unit = self._unit(business_unit_id)
        _check_currency(currency)
        cached = None if self._price_index is None else self._price_index(currency)

        def body(cmd: Command) -> PriceQuote:
            product = self._visible(cmd, code, unit)
            context, lists = self._pricing(
                cmd, unit, currency, cached, channel=channel, customer_groups=customer_groups
            )
            found = resolve_price(
                context.price_context,
                price_item(product, StoredCatalog(cmd.uow)),
                quantity,
                lists=lists,
                quantity_rule=product.quantity_rule,
            )
            return attrs.evolve(found, explanation=found.explanation.for_buyer())

        return member_query(
            self._uow,
            self._clock,
            actor,
            action="product.quote",
            target=f"product:{code}",
            body=body,
        )

    def _pricing(
        self,
        cmd: Command,
        unit: BusinessUnitId | None,
        currency: str,
        cached: PriceIndex | None,
        *,
        channel: str | None,
        customer_groups: Sequence[str],
    ) -> tuple[CatalogContext, PriceIndex]:
        """The actor's pricing context (their unit chain, company country) with the
        assortments that apply, and the price index of ``currency``."""
        chain, assortments = self._scope(cmd, unit)
        company = cmd.uow.companies.get(cmd.actor.company_id)
        context = CatalogContext(
            price_context=PriceContext(
                company_id=company.id,
                currency=currency,
                at=cmd.at,
                business_unit_ids=chain,
                customer_groups=customer_groups,
                channel=channel,
                country=company.country,
            ),
            assortments=assortments,
        )
        lists = (
            cached
            if cached is not None
            else cmd.uow.price_lists.load_index(currency=currency, at=cmd.at)
        )
        return context, lists

    def availability(
        self,
        actor: Actor,
        sku: str,
        quantity: Decimal | int | str,
        *,
        business_unit_id: str | None = None,
        low_threshold: Decimal | int | str = DEFAULT_LOW_STOCK,
    ) -> Availability:
        """How ``quantity`` of ``sku`` stands now
        (:func:`~b2bcore.catalog.rules.availability`); NotFoundError for a product
        outside the actor's assortment."""
        code = as_id(Sku, sku, path="sku")
        unit = self._unit(business_unit_id)

        def body(cmd: Command) -> Availability:
            self._visible(cmd, code, unit)
            levels = cmd.uow.stock_levels.for_sku(code)
            return availability(levels, code, quantity, cmd.at, low_threshold=low_threshold)

        return member_query(
            self._uow,
            self._clock,
            actor,
            action="stock.availability",
            target=f"product:{code}",
            body=body,
        )

    def reserve(
        self,
        actor: Actor,
        *,
        sku: str,
        quantity: Decimal | int | str,
        reference: str,
        location: str | None = None,
        business_unit_id: str | None = None,
    ) -> list[Reservation]:
        """Reserve stock for the actor's ``reference`` (needs ``orders.buy``): the
        SKU must be orderable for them and the quantity allowed by its quantity
        rule; :func:`~b2bcore.catalog.inventory.reserve_stock` does the rest."""
        code = as_id(Sku, sku, path="sku")
        unit = self._unit(business_unit_id)
        cid = actor.company_id if isinstance(actor, Actor) else CompanyId("")
        owner = actor.on_behalf_of if isinstance(actor, Actor) else None

        def body(cmd: Command) -> list[Reservation]:
            _chain, assortments = self._scope(cmd, unit)
            product = check_orderable(
                cmd.uow.products.get(code), assortments, catalog=StoredCatalog(cmd.uow)
            )
            q = check_quantity(product.quantity_rule, quantity)
            return reserve_stock(
                cmd.uow,
                company_id=cid,
                sku=code,
                quantity=q,
                reference=reference,
                at=cmd.at,
                location=location,
            )

        return execute(
            self._uow,
            self._clock,
            actor,
            action="stock.reserve",
            target=f"product:{code}",
            permission=Permission.ORDERS_BUY,
            resource=lambda uow: Resource(
                "reservation",
                str(reference),
                cid,
                owner_id=owner,
                business_unit_id=_buyer_unit(uow, actor, unit),
            ),
            body=body,
            detail=lambda made: f"{sum((r.quantity for r in made), Decimal(0))} for {reference}",
        )

    def release(self, actor: Actor, *, reference: str) -> list[Reservation]:
        """Release every active reservation of the actor's company for ``reference``
        (needs ``orders.buy``); see :func:`~b2bcore.catalog.inventory.release_stock`."""
        cid = actor.company_id if isinstance(actor, Actor) else CompanyId("")
        return execute(
            self._uow,
            self._clock,
            actor,
            action="stock.release",
            target=f"reservation:{reference}",
            permission=Permission.ORDERS_BUY,
            resource=Resource("reservation", str(reference), cid),
            body=lambda cmd: release_stock(cmd.uow, company_id=cid, reference=reference, at=cmd.at),
            detail=lambda released: f"{len(released)} released",
        )
