"""Use-cases of the pricing context: publish price lists, quote prices for an actor.

Price lists are the seller's: a platform operator publishes them (checked as a set
before anything is stored) and every change is audited in the platform trail.
Buyers — users, or agents in an assisted session for one — get quotes at their own
account's prices: the :class:`~b2bcore.pricing.model.PriceContext` is built from the
actor (company, business unit and its ancestors, country), never passed in by hand.

The compiled :class:`~b2bcore.pricing.resolve.PriceIndex` of each currency is
cached in the service and rebuilt after a publish through this service; call
:meth:`PricingService.refresh` when another process published.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from decimal import Decimal

import attrs

from b2bcore._command import Command, member_query
from b2bcore.accounts.model import Actor
from b2bcore.accounts.rules import ancestors
from b2bcore.audit import PLATFORM_AUDIT, AuditEntry
from b2bcore.clock import Clock
from b2bcore.errors import B2BCoreError, ConcurrencyError, ValidationError
from b2bcore.ids import BusinessUnitId, PriceListId, UserId, as_id
from b2bcore.money import RoundingPolicy
from b2bcore.paging import iterate
from b2bcore.pricing.cart import CartLineInput, CartPrice, DiscountSet, price_cart
from b2bcore.pricing.errors import NoPriceError
from b2bcore.pricing.model import (
    PriceContext,
    PriceItem,
    PriceList,
    PriceListSaved,
    PricePolicy,
    QuantityRule,
)
from b2bcore.pricing.resolve import (
    DEFAULT_ROUNDING,
    PriceExplanation,
    PriceIndex,
    PriceQuote,
    check_price_lists,
    resolve_price,
)
from b2bcore.pricing.simulate import PriceChange, simulate_change
from b2bcore.storage.ports import UnitOfWork

__all__ = ["PricingService", "for_buyer"]


def for_buyer(explanation: PriceExplanation) -> PriceExplanation:
    """The explanation a buyer may see: :meth:`PriceExplanation.for_buyer
    <b2bcore.pricing.resolve.PriceExplanation.for_buyer>` (kept here for callers of
    the service)."""
    return explanation.for_buyer()


class PricingService:
    """Pricing use-cases over any store (via a unit-of-work factory)."""

    def __init__(self, unit_of_work: Callable[[], UnitOfWork], clock: Clock) -> None:
        self._uow = unit_of_work
        self._clock = clock
        self._indexes: dict[str, PriceIndex] = {}
        self._lock = threading.Lock()

    # -- publishing (seller side) -----------------------------------------------------
    def publish_price_list(self, *, operator_id: str, price_list: PriceList) -> PriceList:
        """Create or replace a price list after checking it with every other list of
        its currency (:func:`~b2bcore.pricing.resolve.check_price_lists`: ambiguous
        rules → ConflictError, derivation cycles → ValidationError).

        A new list has ``version`` 0; a changed one carries the version it was read
        at (ConcurrencyError if someone published in between).
        """
        op = as_id(UserId, operator_id, path="operator_id")
        if not isinstance(price_list, PriceList):
            raise ValidationError("must be a PriceList", path="price_list", value=price_list)
        at = self._clock.now()
        try:
            self._publish(uow_factory=self._uow, price_list=price_list, operator_id=op, at=at)
        except B2BCoreError:
            price_list.pull_events()  # the caller's object keeps no event of a failed publish
            raise
        self.refresh(price_list.currency)
        return price_list

    @staticmethod
    def _publish(
        *,
        uow_factory: Callable[[], UnitOfWork],
        price_list: PriceList,
        operator_id: str,
        at: datetime,
    ) -> None:
        op = operator_id
        with uow_factory() as uow:
            same_currency = list(
                iterate(
                    lambda c: uow.price_lists.list(
                        currency=price_list.currency, limit=100, cursor=c
                    )
                )
            )
            stored = next((pl for pl in same_currency if pl.id == price_list.id), None)
            others = [pl for pl in same_currency if pl.id != price_list.id]
            check_price_lists([*others, price_list])
            price_list.record(
                PriceListSaved(
                    company_id=PLATFORM_AUDIT,
                    occurred_at=at,
                    price_list_id=price_list.id,
                    rule_count=len(price_list.rules),
                )
            )
            if stored is None:
                if price_list.version != 0:
                    raise ConcurrencyError(
                        "price list", price_list.id, expected_version=price_list.version
                    )
                uow.price_lists.add(price_list)
            else:
                uow.price_lists.update(price_list)
            uow.audit.append(
                AuditEntry.platform(
                    at=at,
                    operator_id=op,
                    action="price_list.publish",
                    target=f"price_list:{price_list.id}",
                    detail=f"{len(price_list.rules)} rules, version {price_list.version}",
                )
            )
            uow.commit()

    def price_list(self, list_id: str) -> PriceList:
        """A stored price list (NotFoundError if there is none)."""
        with self._uow() as uow:
            return uow.price_lists.get(as_id(PriceListId, list_id, path="list_id"))

    def refresh(self, currency: str | None = None) -> None:
        """Forget the compiled index of ``currency`` (all currencies when None)."""
        with self._lock:
            if currency is None:
                self._indexes.clear()
            else:
                self._indexes.pop(currency, None)

    def cached_index(self, currency: str) -> PriceIndex | None:
        """The compiled index of ``currency`` if it is cached (never reads the
        store, so it may be asked inside another unit of work)."""
        if not isinstance(currency, str):
            raise ValidationError("must be a currency code", path="currency", value=currency)
        with self._lock:
            return self._indexes.get(currency)

    def index(self, currency: str) -> PriceIndex:
        """The compiled index of every stored list in ``currency`` (cached)."""
        with self._lock:
            cached = self._indexes.get(currency)
        if cached is not None:
            return cached
        with self._uow() as uow:
            built = uow.price_lists.load_index(currency=currency)
        with self._lock:
            self._indexes[currency] = built
        return built

    # -- buyers -----------------------------------------------------------------------
    def context_for(
        self,
        actor: Actor,
        *,
        currency: str,
        business_unit_id: str | None = None,
        channel: str | None = None,
        customer_groups: Sequence[str] = (),
    ) -> PriceContext:
        """The actor's pricing context now: company, the business unit (default the
        user's first) with its ancestors, the company's country.

        The unit must be one of the user's units or below one of them.
        """
        bu = (
            None
            if business_unit_id is None
            else as_id(BusinessUnitId, business_unit_id, path="business_unit_id")
        )

        def build(cmd: Command) -> PriceContext:
            company = cmd.uow.companies.get(cmd.actor.company_id)
            units = cmd.access.units
            user = cmd.access.user
            own = list(user.business_unit_ids) if user is not None else []
            chosen = bu if bu is not None else (own[0] if own else None)
            path: set[str] = set()
            if chosen is not None:
                allowed: set[str] = {chosen, *ancestors(units, chosen)}
                if user is not None and not (set(own) & allowed):
                    raise ValidationError(
                        f"business unit {chosen!r} is not one of the user's units or below them",
                        path="business_unit_id",
                        value=chosen,
                    )
                path = allowed
            return PriceContext(
                company_id=company.id,
                currency=currency,
                at=cmd.at,
                business_unit_ids=path,
                customer_groups=customer_groups,
                channel=channel,
                country=company.country,
            )

        return member_query(
            self._uow,
            self._clock,
            actor,
            action="price.context",
            target="prices",
            body=build,
        )

    def quote(
        self,
        actor: Actor,
        item: PriceItem,
        quantity: Decimal | int | str,
        *,
        currency: str,
        business_unit_id: str | None = None,
        channel: str | None = None,
        customer_groups: Sequence[str] = (),
        policy: PricePolicy = PricePolicy.MOST_SPECIFIC,
        rounding: RoundingPolicy = DEFAULT_ROUNDING,
    ) -> PriceQuote:
        """The actor's price for ``quantity`` of ``item``, with its explanation
        (:func:`for_buyer`: lists meant for other buyers are left out of it)."""
        context = self.context_for(
            actor,
            currency=currency,
            business_unit_id=business_unit_id,
            channel=channel,
            customer_groups=customer_groups,
        )
        try:
            quote = resolve_price(
                context,
                item,
                quantity,
                lists=self.index(currency),
                policy=policy,
                rounding=rounding,
            )
        except NoPriceError as e:
            full = e.explanation
            assert isinstance(full, PriceExplanation)
            raise NoPriceError(item.sku, for_buyer(full)) from None
        return attrs.evolve(quote, explanation=for_buyer(quote.explanation))

    @staticmethod
    def _stored_lists(uow: UnitOfWork, currency: str) -> list[PriceList]:
        out: list[PriceList] = []
        cursor: str | None = None
        while True:
            page = uow.price_lists.list(currency=currency, limit=100, cursor=cursor)
            out.extend(page.items)
            if page.next_cursor is None:
                return out
            cursor = page.next_cursor

    def price_cart(
        self,
        actor: Actor,
        lines: Sequence[CartLineInput],
        *,
        currency: str,
        discounts: Sequence[DiscountSet] = (),
        business_unit_id: str | None = None,
        channel: str | None = None,
        customer_groups: Sequence[str] = (),
        policy: PricePolicy = PricePolicy.MOST_SPECIFIC,
        rounding: RoundingPolicy = DEFAULT_ROUNDING,
        quantity_rules: Iterable[QuantityRule] | None = None,
    ) -> CartPrice:
        """The actor's cart at their own prices
        (:func:`~b2bcore.pricing.cart.price_cart`), every line's explanation
        :func:`for_buyer`."""
        context = self.context_for(
            actor,
            currency=currency,
            business_unit_id=business_unit_id,
            channel=channel,
            customer_groups=customer_groups,
        )
        try:
            cart = price_cart(
                context,
                lines,
                lists=self.index(currency),
                discounts=discounts,
                policy=policy,
                rounding=rounding,
                quantity_rules=quantity_rules,
            )
        except NoPriceError as e:
            full = e.explanation
            assert isinstance(full, PriceExplanation)
            raise NoPriceError(e.sku, for_buyer(full)) from None
        redacted = tuple(
            attrs.evolve(
                line, quote=attrs.evolve(line.quote, explanation=for_buyer(line.quote.explanation))
            )
            for line in cart.lines
        )
        return attrs.evolve(cart, lines=redacted)

    def simulate(
        self,
        *,
        operator_id: str,
        proposed: Sequence[PriceList],
        contexts: Sequence[PriceContext],
        items: Sequence[PriceItem],
        quantities: Iterable[Decimal | int | str] = (1,),
    ) -> list[PriceChange]:
        """What publishing ``proposed`` (new or changed lists) would change for
        ``contexts`` and ``items``, against the stored lists of the same currencies
        (:func:`~b2bcore.pricing.simulate.simulate_change`); the proposed set is
        checked like a publish first."""
        as_id(UserId, operator_id, path="operator_id")
        if not isinstance(proposed, (list, tuple)) or not all(
            isinstance(pl, PriceList) for pl in proposed
        ):
            raise ValidationError("must be a list of PriceList", path="proposed")
        currencies = {pl.currency for pl in proposed}
        current: list[PriceList] = []
        with self._uow() as uow:
            for currency in sorted(currencies):
                current.extend(self._stored_lists(uow, currency))
        replaced = {pl.id for pl in proposed}
        after = [pl for pl in current if pl.id not in replaced] + list(proposed)
        check_price_lists(after)
        return simulate_change(current, after, contexts, items, quantities=quantities)
