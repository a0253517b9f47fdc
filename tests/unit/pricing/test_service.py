"""Pricing through the portal: publishing, buyer contexts, quotes, privacy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs
import pytest

from b2bcore.accounts import Actor, Permission
from b2bcore.clock import FixedClock
from b2bcore.errors import (
    ConcurrencyError,
    ConflictError,
    PermissionDeniedError,
    ValidationError,
)
from b2bcore.ids import CategoryId, CompanyId, PriceListId, ProductId, Sku
from b2bcore.money import Money
from b2bcore.portal import Portal
from b2bcore.pricing import (
    CartLineInput,
    Formula,
    NoPriceError,
    PriceItem,
    PriceList,
    PriceRule,
    PriceScope,
    RuleTarget,
)
from b2bcore.storage.memory import MemoryStore

YEAR = datetime(2026, 1, 1, tzinfo=UTC)
ITEM = PriceItem(
    sku=Sku("P-1"),
    product_id=ProductId("p"),
    category_path=[CategoryId("pumps")],
    list_price=Money("100.00", "EUR"),
)


def _list(list_id: str, *, companies: set[str] | None = None, percent: str = "0") -> PriceList:
    return PriceList(
        id=PriceListId(list_id),
        name=list_id,
        currency="EUR",
        valid_from=YEAR,
        scope=PriceScope(companies=companies or set()),
        rules=[
            PriceRule(id="r", target=RuleTarget.category("pumps"), formula=Formula(percent=percent))
        ],
    )


@pytest.fixture
def portal() -> Portal:
    p = Portal(MemoryStore(), clock=FixedClock(datetime(2026, 6, 1, 9, tzinfo=UTC)))
    for cid, country in (("acme", "DE"), ("globex", "AT")):
        p.accounts.create_company(
            Actor.operator_for(cid, "op"),
            name=cid.upper(),
            country=country,
            admin_email=f"admin@{cid}.example",
            admin_user_id=f"admin-{cid}",
        )
    admin = Actor.user("acme", "admin-acme")
    p.accounts.add_business_unit(admin, name="Plant", unit_id="plant", parent_id="hq")
    p.accounts.add_business_unit(admin, name="Line", unit_id="line", parent_id="plant")
    p.accounts.invite_user(
        admin,
        user_id="ben",
        email="ben@acme.example",
        name="Ben",
        business_unit_ids=["line"],
        roles=["buyer"],
    )
    return p


def test_each_company_gets_its_contract_price_and_no_one_elses(portal: Portal) -> None:
    portal.pricing.publish_price_list(operator_id="op", price_list=_list("public"))
    portal.pricing.publish_price_list(
        operator_id="op", price_list=_list("acme-deal", companies={"acme"}, percent="-10")
    )
    portal.pricing.publish_price_list(
        operator_id="op", price_list=_list("globex-deal", companies={"globex"}, percent="-20")
    )
    acme = portal.pricing.quote(Actor.user("acme", "ben"), ITEM, 2, currency="EUR")
    globex = portal.pricing.quote(Actor.user("globex", "admin-globex"), ITEM, 2, currency="EUR")
    assert (acme.unit_price, acme.price_list_id) == (Money("90.00", "EUR"), "acme-deal")
    assert (globex.unit_price, globex.price_list_id) == (Money("80.00", "EUR"), "globex-deal")
    assert "globex" not in acme.explanation.text()
    assert "acme" not in globex.explanation.text()
    assert "lost on buyer specificity" in acme.explanation.text()


def test_no_price_error_for_a_buyer_names_no_other_buyer(portal: Portal) -> None:
    portal.pricing.publish_price_list(
        operator_id="op", price_list=_list("globex-deal", companies={"globex"})
    )
    with pytest.raises(NoPriceError) as info:
        portal.pricing.quote(Actor.user("acme", "ben"), ITEM, 1, currency="EUR")
    assert "globex" not in info.value.explanation.text()
    assert "globex" not in str(info.value)


def test_another_buyers_expired_or_foreign_currency_list_stays_hidden(portal: Portal) -> None:
    # Scope is judged before currency and window, so another buyer's list is always
    # "for someone else" — and dropped — whatever else is wrong with it.
    portal.pricing.publish_price_list(operator_id="op", price_list=_list("public"))
    expired = attrs.evolve(
        _list("globex-2025", companies={"globex"}),
        valid_from=datetime(2025, 1, 1, tzinfo=UTC),
        valid_until=YEAR,
    )
    portal.pricing.publish_price_list(operator_id="op", price_list=expired)
    usd = PriceList(
        id=PriceListId("globex-usd"),
        name="Globex USD",
        currency="USD",
        valid_from=YEAR,
        scope=PriceScope(companies={"globex"}),
        rules=[PriceRule(id="r", target=RuleTarget.all(), price=Money("1.00", "USD"))],
    )
    portal.pricing.publish_price_list(operator_id="op", price_list=usd)
    acme = portal.pricing.quote(Actor.user("acme", "ben"), ITEM, 1, currency="EUR")
    assert acme.price_list_id == "public"
    assert "globex" not in acme.explanation.text()
    with pytest.raises(NoPriceError) as info:
        portal.pricing.quote(Actor.user("acme", "ben"), ITEM, 1, currency="USD")
    assert "globex" not in info.value.explanation.text()


def test_context_uses_the_users_unit_its_ancestors_and_the_country(portal: Portal) -> None:
    ctx = portal.pricing.context_for(Actor.user("acme", "ben"), currency="EUR")
    assert ctx.business_unit_ids == {"line", "plant", "hq"}
    assert (ctx.company_id, ctx.country, ctx.currency) == ("acme", "DE", "EUR")
    with pytest.raises(ValidationError, match="not one of the user's units"):
        portal.pricing.context_for(Actor.user("acme", "ben"), currency="EUR", business_unit_id="hq")


def test_unit_scoped_list_applies_to_descendant_units(portal: Portal) -> None:
    plant_list = PriceList(
        id=PriceListId("plant-deal"),
        name="Plant deal",
        currency="EUR",
        valid_from=YEAR,
        scope=PriceScope(business_units={"plant"}),
        rules=[PriceRule(id="r", target=RuleTarget.sku("P-1"), price=Money("70.00", "EUR"))],
    )
    portal.pricing.publish_price_list(operator_id="op", price_list=plant_list)
    quote = portal.pricing.quote(Actor.user("acme", "ben"), ITEM, 1, currency="EUR")
    assert quote.unit_price == Money("70.00", "EUR")


def test_publish_checks_the_set_and_versions(portal: Portal) -> None:
    first = portal.pricing.publish_price_list(operator_id="op", price_list=_list("a"))
    assert first.version == 1
    with pytest.raises(ConflictError, match="same scope, target"):
        portal.pricing.publish_price_list(operator_id="op", price_list=_list("b"))
    stale = portal.pricing.price_list("a")
    fresh = portal.pricing.price_list("a")
    fresh.name = "A (2nd edition)"
    portal.pricing.publish_price_list(operator_id="op", price_list=fresh)
    stale.name = "A (lost update)"
    with pytest.raises(ConcurrencyError):
        portal.pricing.publish_price_list(operator_id="op", price_list=stale)
    assert portal.pricing.price_list("a").name == "A (2nd edition)"
    trail = portal.accounts.platform_audit_trail(operator_id="op", limit=100)
    assert [e.action for e in trail].count("price_list.publish") == 2


def test_quotes_follow_a_republished_list(portal: Portal) -> None:
    portal.pricing.publish_price_list(operator_id="op", price_list=_list("public"))
    ben = Actor.user("acme", "ben")
    before = portal.pricing.quote(ben, ITEM, 1, currency="EUR")
    changed = portal.pricing.price_list("public")
    changed.rules = (
        PriceRule(id="r", target=RuleTarget.category("pumps"), formula=Formula(percent="5")),
    )
    portal.pricing.publish_price_list(operator_id="op", price_list=changed)
    after = portal.pricing.quote(ben, ITEM, 1, currency="EUR")
    assert (before.unit_price, after.unit_price) == (
        Money("100.00", "EUR"),
        Money("105.00", "EUR"),
    )


def test_agents_quote_for_their_customer_and_strangers_are_denied(portal: Portal) -> None:
    portal.pricing.publish_price_list(
        operator_id="op", price_list=_list("acme-deal", companies={"acme"}, percent="-10")
    )
    portal.accounts.register_agent(
        operator_id="op", agent_id="sam", name="Sam", email="sam@seller.example"
    )
    session = portal.accounts.start_assisted_session(
        agent_id="sam",
        company_id="acme",
        customer_user_id="ben",
        reason="phone order",
        permissions=[Permission.ORDERS_BUY],
        duration=timedelta(minutes=5),
    )
    quote = portal.pricing.quote(Actor.assisted(session), ITEM, Decimal(3), currency="EUR")
    assert quote.line_total == Money("270.00", "EUR")
    with pytest.raises(PermissionDeniedError) as info:
        portal.pricing.quote(Actor.user("acme", "nobody"), ITEM, 1, currency="EUR")
    assert info.value.decision_code == "unknown_user"


def test_cart_through_the_portal_is_priced_and_redacted(portal: Portal) -> None:
    portal.pricing.publish_price_list(operator_id="op", price_list=_list("public"))
    portal.pricing.publish_price_list(
        operator_id="op", price_list=_list("acme-deal", companies={"acme"}, percent="-10")
    )
    portal.pricing.publish_price_list(
        operator_id="op", price_list=_list("globex-deal", companies={"globex"}, percent="-20")
    )
    other = PriceItem(
        sku=Sku("P-2"), category_path=[CategoryId("pumps")], list_price=Money("50.00", "EUR")
    )
    cart = portal.pricing.price_cart(
        Actor.user("acme", "ben"),
        [CartLineInput(item=ITEM, quantity=2), CartLineInput(item=other, quantity=1)],
        currency="EUR",
    )
    assert cart.total == Money("225.00", "EUR")  # 2 x 90.00 + 45.00
    assert sum((line.net for line in cart.lines), Money.zero("EUR")) == cart.total
    assert all("globex" not in line.quote.explanation.text() for line in cart.lines)


def test_simulate_a_price_change_before_publishing(portal: Portal) -> None:
    portal.pricing.publish_price_list(
        operator_id="op", price_list=_list("acme-deal", companies={"acme"}, percent="-10")
    )
    proposal = _list("acme-deal", companies={"acme"}, percent="-15")
    ctx = portal.pricing.context_for(Actor.user("acme", "ben"), currency="EUR")
    other_ctx = portal.pricing.context_for(Actor.user("globex", "admin-globex"), currency="EUR")
    changes = portal.pricing.simulate(
        operator_id="op", proposed=[proposal], contexts=[ctx, other_ctx], items=[ITEM]
    )
    assert [(c.context.company_id, c.sku) for c in changes] == [("acme", "P-1")]
    assert "90.00" in changes[0].describe()
    assert "85.00" in changes[0].describe()
    assert portal.pricing.price_list("acme-deal").rules[0].formula == Formula(percent="-10")
    with pytest.raises(ConflictError):
        portal.pricing.simulate(
            operator_id="op",
            proposed=[_list("clash", companies={"acme"})],
            contexts=[ctx],
            items=[ITEM],
        )


@pytest.mark.parametrize("quantity", [None, 1.5, [1], "one"])
def test_bad_quantities_at_the_portal_are_validation_errors(
    portal: Portal, quantity: object
) -> None:
    portal.pricing.publish_price_list(operator_id="op", price_list=_list("public"))
    with pytest.raises(ValidationError) as info:
        portal.pricing.quote(Actor.user("acme", "ben"), ITEM, quantity, currency="EUR")  # type: ignore[arg-type]
    assert info.value.path == "quantity"


def test_simulate_refuses_anything_but_a_list_of_price_lists(portal: Portal) -> None:
    for bad in (None, "list", [object()]):
        with pytest.raises(ValidationError):
            portal.pricing.simulate(operator_id="op", proposed=bad, contexts=[], items=[])  # type: ignore[arg-type]


def test_a_failed_publish_leaves_no_pending_event_on_the_list(portal: Portal) -> None:
    ghost = _list("ghost")
    ghost.version = 3  # claims to have been read, but was never stored
    with pytest.raises(ConcurrencyError):
        portal.pricing.publish_price_list(operator_id="op", price_list=ghost)
    assert ghost.pull_events() == []
    ghost.version = 0
    portal.pricing.publish_price_list(operator_id="op", price_list=ghost)
    with portal.store.unit_of_work() as uow:
        saved = uow.outbox.list(company_id=CompanyId("~platform"), limit=10)
    assert len(saved) == 1  # one event, not one per attempt
