"""Catalog properties: exclude wins; nothing outside the assortment is ever listed or
related; availability never promises more than stock and incoming goods; every
catalog model round-trips through JSON; bad input is a B2BCoreError and writes
nothing."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import attrs
from hypothesis import event, given, settings
from hypothesis import strategies as st

from b2bcore.accounts import Actor
from b2bcore.catalog import (
    Assortment,
    CatalogContext,
    InMemoryCatalog,
    Product,
    ProductRelation,
    RelationType,
    Selection,
    StockLevel,
    StockStatus,
    applicable_assortments,
    availability,
    category_path,
    check_successors,
    in_assortment,
    related_products,
)
from b2bcore.clock import FixedClock
from b2bcore.errors import B2BCoreError
from b2bcore.ids import CompanyId, PriceListId
from b2bcore.money import Money
from b2bcore.paging import iterate
from b2bcore.portal import Portal
from b2bcore.pricing import Formula, PriceContext, PriceList, PriceRule, RuleTarget
from b2bcore.serialization import dumps, loads
from b2bcore.storage.memory import MemoryStore
from b2bcore.testing.strategies import (
    DEFAULT_CATALOG_CATEGORIES,
    DEFAULT_CATALOG_SKUS,
    assortments,
    aware_datetimes,
    catalogs,
    category_trees,
    product_relations,
    products,
    relation_rules,
    selections,
    stock_levels,
)

AT = datetime(2026, 6, 1, 9, tzinfo=UTC)
OP = "op"
UNITS = ("hq", "plant", "line", "office")  # hq > plant > line, hq > office
BEN = Actor.user("acme", "ben")  # a buyer in "line"
LIST_PRICES = PriceList(
    id=PriceListId("list"),
    name="List prices",
    currency="EUR",
    valid_from=datetime(2020, 1, 1, tzinfo=UTC),
    rules=[PriceRule(id="all", target=RuleTarget.all(), formula=Formula())],
)


# --- an oracle of assortments, written from the definition -------------------------------


def _named(selection: Selection, product: Product, path: Iterable[str]) -> bool:
    parent = str(product.parent_sku if product.parent_sku is not None else product.sku)
    return (
        product.sku in selection.skus
        or parent in {str(p) for p in selection.products}
        or bool(set(path) & set(selection.categories))
    )


def _admitted(product: Product, path: Sequence[str], levels: Iterable[Assortment]) -> bool:
    """Every level admits it: included (an empty include names everything) and not
    excluded."""
    return all(
        (selection_empty(a.include) or _named(a.include, product, path))
        and not _named(a.exclude, product, path)
        for a in levels
    )


def selection_empty(selection: Selection) -> bool:
    return not (selection.skus or selection.products or selection.categories)


def _path(product: Product, catalog: InMemoryCatalog) -> tuple[str, ...]:
    return category_path(product.category_id, catalog)


company_assortments = assortments(business_unit_ids=UNITS)


@given(
    product=products(),
    path=st.lists(st.sampled_from(DEFAULT_CATALOG_CATEGORIES), unique=True, max_size=3),
    levels=st.lists(company_assortments, max_size=3),
    extra=selections(),
)
def test_assortments_follow_the_definition_and_exclude_wins(
    product: Product, path: list[str], levels: list[Assortment], extra: Selection
) -> None:
    assert in_assortment(product, levels, category_path=path) == _admitted(product, path, levels)
    # Naming the product in some level's exclude keeps it out, whatever is included.
    if levels:
        first = levels[0]
        excluded = attrs.evolve(
            first,
            include=Selection(
                skus={*first.include.skus, product.sku, *extra.skus},
                products=first.include.products,
                categories={*first.include.categories, *path},
            ),
            exclude=Selection(skus={*first.exclude.skus, product.sku}),
        )
        assert not in_assortment(product, [excluded, *levels[1:]], category_path=path)
    # No assortment at all admits everything.
    assert in_assortment(product, [], category_path=path)


# --- related products and listings -------------------------------------------------------


def _context(levels: Sequence[Assortment]) -> CatalogContext:
    return CatalogContext(
        price_context=PriceContext(company_id=CompanyId("acme"), currency="EUR", at=AT),
        assortments=levels,
    )


@given(catalog=catalogs(), levels=st.lists(company_assortments, max_size=2), data=st.data())
def test_related_products_are_only_what_the_buyer_may_buy_and_has_a_price_for(
    catalog: InMemoryCatalog, levels: list[Assortment], data: st.DataObject
) -> None:
    applicable = applicable_assortments(levels, company_id="acme", business_unit_ids=UNITS[:3])
    source = data.draw(st.sampled_from(catalog.products))
    others = [p.sku for p in catalog.products if p.sku != source.sku]
    if others:  # a few more relations from the source, so there is something to filter
        extra = data.draw(st.lists(st.sampled_from(others), max_size=4, unique=True))
        kinds = data.draw(st.lists(st.sampled_from(RelationType), min_size=4, max_size=4))
        catalog = InMemoryCatalog(
            categories=catalog.categories,
            products=catalog.products,
            relations=[
                *catalog.relations,
                *(
                    ProductRelation(source_sku=source.sku, target_sku=sku, type=kind)
                    for sku, kind in zip(extra, kinds, strict=False)
                    if all(r.key != f"{source.sku}#{kind.value}#{sku}" for r in catalog.relations)
                ),
            ],
            rules=catalog.rules,
        )
    found = related_products(
        source.sku, _context(applicable), catalog=catalog, lists=[LIST_PRICES], limit=1000
    )
    skus = [r.sku for r in found]
    assert len(skus) == len(set(skus))
    assert source.sku not in skus
    for related in found:
        product = catalog.product(related.sku)
        assert product is not None
        assert product.active
        assert product.list_price is not None  # the only price there is
        assert _admitted(product, _path(product, catalog), applicable)
        assert related.reason
    # Completeness for explicit relations: every target the buyer may buy and has a
    # price for is shown (itself, or as the successor that replaces it).
    for relation in catalog.relations:
        other = relation.other(source.sku)
        target = None if other is None else catalog.product(other)
        if (
            target is not None
            and target.sku != source.sku
            and target.active
            and target.list_price is not None
            and _admitted(target, _path(target, catalog), applicable)
        ):
            assert target.sku in skus
    event(f"related: {min(len(found), 5)}")


def _tree_order(catalog: InMemoryCatalog) -> list[Any]:
    done: set[str] = set()
    ordered = []
    todo = list(catalog.categories)
    while todo:
        ready = [c for c in todo if c.parent_id is None or c.parent_id in done]
        ordered.extend(ready)
        done.update(c.id for c in ready)
        todo = [c for c in todo if c.id not in done]
    return ordered


def _store_catalog(portal: Portal, catalog: InMemoryCatalog, levels: list[Assortment]) -> None:
    cat = portal.catalog
    for category in _tree_order(catalog):
        cat.save_category(operator_id=OP, category=attrs.evolve(category))
    # Parents come before their variants; successors are set once every product exists.
    ordered = sorted(catalog.products, key=lambda p: p.parent_sku is not None)
    for product in ordered:
        cat.save_product(operator_id=OP, product=attrs.evolve(product, successor_sku=None))
    for product in ordered:
        if product.successor_sku is not None:
            stored = cat.product(product.sku)
            stored.successor_sku = product.successor_sku
            cat.save_product(operator_id=OP, product=stored)
    for relation in catalog.relations:
        cat.save_relation(operator_id=OP, relation=attrs.evolve(relation))
    for rule in catalog.rules:
        cat.save_relation_rule(operator_id=OP, rule=attrs.evolve(rule))
    operator = Actor.operator_for("acme", OP)
    for level in {a.key: a for a in levels}.values():
        cat.save_assortment(operator, attrs.evolve(level))


def _portal(at: datetime = AT) -> Portal:
    portal = Portal(MemoryStore(), clock=FixedClock(at))
    portal.accounts.create_company(
        Actor.operator_for("acme", OP), name="ACME", admin_email="a@acme.example"
    )
    admin = Actor.operator_for("acme", OP)
    portal.accounts.add_business_unit(admin, name="Plant", unit_id="plant", parent_id="hq")
    portal.accounts.add_business_unit(admin, name="Line", unit_id="line", parent_id="plant")
    portal.accounts.add_business_unit(admin, name="Office", unit_id="office", parent_id="hq")
    portal.accounts.invite_user(
        admin,
        user_id="ben",
        email="ben@acme.example",
        name="Ben",
        business_unit_ids=["line"],
        roles=["buyer"],
    )
    portal.pricing.publish_price_list(operator_id=OP, price_list=attrs.evolve(LIST_PRICES))
    return portal


@settings(max_examples=20)
@given(catalog=catalogs(), levels=st.lists(company_assortments, max_size=3), page=st.integers(1, 4))
def test_listings_show_exactly_the_active_products_of_the_assortment(
    catalog: InMemoryCatalog, levels: list[Assortment], page: int
) -> None:
    portal = _portal()
    _store_catalog(portal, catalog, levels)
    stored = {a.key: a for a in levels}.values()
    applicable = applicable_assortments(stored, company_id="acme", business_unit_ids=UNITS[:3])
    listed = [
        p.sku for p in iterate(lambda c: portal.catalog.list_products(BEN, limit=page, cursor=c))
    ]
    expected = sorted(
        p.sku for p in catalog.products if p.active and _admitted(p, _path(p, catalog), applicable)
    )
    assert listed == expected
    source = catalog.products[0].sku
    for related in portal.catalog.related_products(BEN, source, currency="EUR", limit=1000):
        assert related.sku in expected
    event(f"listed {min(len(listed), 5)} of {len(catalog.products)}")


# --- availability ------------------------------------------------------------------------


@given(
    levels=st.lists(stock_levels(), unique_by=lambda lv: lv.location, max_size=3),
    quantity=st.integers(1, 120).map(Decimal) | st.decimals("0.5", "50", places=1),
    at=aware_datetimes(
        min_value=datetime(2025, 1, 1, tzinfo=UTC), max_value=datetime(2027, 12, 31, tzinfo=UTC)
    ),
    threshold=st.integers(0, 10),
)
def test_availability_never_promises_more_than_stock_and_incoming(
    levels: list[StockLevel], quantity: Decimal, at: datetime, threshold: int
) -> None:
    answer = availability(levels, "SKU-1", quantity, at, low_threshold=threshold)
    free_now = sum((max(lv.on_hand - lv.reserved, Decimal(0)) for lv in levels), Decimal(0))
    # Per location: what is free now plus what arrives, less any shortfall (more
    # reserved than on hand) the arrivals must make up first; never below zero.
    ceiling = sum(
        (
            max(
                lv.on_hand - lv.reserved + sum((i.quantity for i in lv.incoming), Decimal(0)),
                Decimal(0),
            )
            for lv in levels
        ),
        Decimal(0),
    )
    assert answer.available == free_now
    assert answer.promisable == ceiling
    assert answer.promisable >= answer.available
    if answer.status in (StockStatus.IN_STOCK, StockStatus.LOW):
        assert quantity <= answer.available
        assert (answer.status is StockStatus.LOW) == (answer.available <= threshold)
    elif answer.status is StockStatus.BACKORDER:
        assert answer.available < quantity <= answer.promisable
        assert answer.expected_at is not None
        assert answer.expected_at >= answer.at
        # Everything due by then, net of shortfalls, covers the quantity.
        due = sum(
            (
                max(
                    lv.on_hand
                    - lv.reserved
                    + sum(
                        (
                            i.quantity
                            for i in lv.incoming
                            if max(i.expected_at, at) <= answer.expected_at
                        ),
                        Decimal(0),
                    ),
                    Decimal(0),
                )
                for lv in levels
            ),
            Decimal(0),
        )
        assert due >= quantity
    else:
        assert quantity > answer.promisable
        assert answer.expected_at is None
    event(answer.status.value)


# --- serialization -----------------------------------------------------------------------


catalog_models = st.one_of(
    products(),
    company_assortments,
    product_relations(),
    relation_rules(),
    stock_levels(),
    category_trees().map(lambda tree: tree[-1]),
)


@given(obj=catalog_models)
def test_every_catalog_model_round_trips_through_json(obj: Any) -> None:
    assert loads(dumps(obj), type(obj)) == obj


# --- bad input -----------------------------------------------------------------------------

junk: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(["SKU-1", "spares", "leipzig", "order-1", "line", "", "bad id!"]),
    st.text(max_size=8),
    st.none(),
    st.integers(-5, 5),
    st.floats(allow_nan=True),
    st.lists(st.sampled_from(["SKU-1", "x"]), max_size=2),
)


def field(*good: object) -> st.SearchStrategy[Any]:
    """Mostly a plausible value, sometimes junk."""
    return st.integers(0, 4).flatmap(lambda n: junk if n == 0 else st.sampled_from(good))


skus = field(*DEFAULT_CATALOG_SKUS[:4], "GHOST")
operator_commands = st.one_of(
    st.tuples(
        st.just("set_stock"),
        st.fixed_dictionaries(
            {
                "sku": skus,
                "location": field("leipzig", "berlin"),
                "on_hand": field(0, 3, "2.5", Decimal(-1)),
            }
        ),
    ),
    st.tuples(
        st.just("remove_relation"),
        st.fixed_dictionaries(
            {
                "source_sku": skus,
                "relation_type": field("accessory", "spare_part", "friend"),
                "target_sku": skus,
            }
        ),
    ),
    st.tuples(st.just("save_product"), st.fixed_dictionaries({"product": field(None)})),
    st.tuples(st.just("save_relation"), st.fixed_dictionaries({"relation": product_relations()})),
)
buyer_commands = st.one_of(
    st.tuples(
        st.just("reserve"),
        st.fixed_dictionaries(
            {
                "sku": skus,
                "quantity": field(1, 2, "0.5", 100),
                "reference": field("order-1", "order-2"),
                "location": field(None, "leipzig"),
            }
        ),
    ),
    st.tuples(st.just("release"), st.fixed_dictionaries({"reference": field("order-1", "o-9")})),
    st.tuples(
        st.just("save_assortment"),
        st.fixed_dictionaries(
            {"assortment": assortments(business_unit_ids=["plant", "line", "ghost"])}
        ),
    ),
    st.tuples(
        st.just("remove_assortment"),
        st.fixed_dictionaries({"business_unit_id": field(None, "plant", "ghost")}),
    ),
)


def _snapshot(portal: Portal) -> dict[str, Any]:
    acme = CompanyId("acme")
    with portal.store.unit_of_work() as uow:
        return {
            "products": [(p.sku, p.version) for p in uow.products.list(limit=1000)],
            "categories": [(c.id, c.version) for c in uow.categories.list(limit=1000)],
            "relations": [(r.key, r.version) for r in uow.product_relations.list(limit=1000)],
            "stock": [
                (lv.key, lv.version, lv.reserved)
                for sku in [*DEFAULT_CATALOG_SKUS, "GHOST"]
                for lv in uow.stock_levels.for_sku(sku)  # type: ignore[arg-type]
            ],
            "assortments": [(a.key, a.version) for a in uow.assortments.list(company_id=acme)],
            "reservations": [
                (r.id, r.version) for r in uow.reservations.list(company_id=acme, limit=1000)
            ],
            "outbox": [
                r.id
                for company in (acme, CompanyId("~platform"))
                for r in uow.outbox.list(company_id=company, limit=1000)
            ],
        }


def _audit(portal: Portal) -> list[str]:
    with portal.store.unit_of_work() as uow:
        return [e.outcome.value for e in uow.audit.list(company_id=CompanyId("acme"), limit=1000)]


@settings(max_examples=40)
@given(
    catalog=catalogs(skus=DEFAULT_CATALOG_SKUS[:4]),
    script=st.lists(operator_commands | buyer_commands, max_size=8),
    start=aware_datetimes(
        min_value=datetime(2025, 1, 1, tzinfo=UTC), max_value=datetime(2027, 1, 1, tzinfo=UTC)
    ),
)
def test_any_input_either_succeeds_or_fails_cleanly(
    catalog: InMemoryCatalog, script: list[tuple[str, dict[str, Any]]], start: datetime
) -> None:
    portal = _portal(start)
    _store_catalog(portal, catalog, [])
    for sku in DEFAULT_CATALOG_SKUS[:4]:
        if catalog.product(sku) is None:  # every SKU the commands name exists but GHOST
            portal.catalog.save_product(
                operator_id=OP, product=Product(sku=sku, name=sku, list_price=Money("9", "EUR"))
            )
        portal.catalog.set_stock(operator_id=OP, sku=sku, location="leipzig", on_hand=3)
    for name, kwargs in script:
        command = getattr(portal.catalog, name)
        by_buyer = name in ("reserve", "release", "save_assortment", "remove_assortment")
        before, audited = _snapshot(portal), len(_audit(portal))
        try:
            if by_buyer:
                actor = BEN if name in ("reserve", "release") else Actor.operator_for("acme", OP)
                if name == "save_assortment":
                    command(actor, **{k: attrs.evolve(v) for k, v in kwargs.items()})
                else:
                    command(actor, **kwargs)
            else:
                command(operator_id=OP, **kwargs)
        except B2BCoreError as e:
            event(f"{name}: {e.code}")
            assert _snapshot(portal) == before, f"{name} failed but changed the store"
            assert _audit(portal)[audited:] in ([], ["failed"], ["denied"])
        else:
            event(f"{name}: ok")
            after = _snapshot(portal)
            if name == "release" and after == before:
                continue  # releasing what was released already changes nothing
            assert after != before, f"{name} succeeded but stored nothing"
            if by_buyer:
                assert _audit(portal)[audited:] == ["allowed"]


def _edges(graph: dict[str, list[str]], sku: str) -> list[str]:
    return graph.get(sku, [])


def test_successors_point_forward_in_generated_catalogs() -> None:
    """The strategy's own promise: chains never loop, variants are one level deep."""

    @settings(max_examples=30)
    @given(catalog=catalogs())
    def check(catalog: InMemoryCatalog) -> None:
        replaced: dict[str, list[str]] = {}
        for relation in catalog.relations:
            if relation.type is RelationType.REPLACEMENT:
                replaced.setdefault(relation.source_sku, []).append(relation.target_sku)
        for product in catalog.products:
            edges = list(replaced.get(product.sku, []))
            if product.successor_sku is not None:
                edges.append(product.successor_sku)
            graph: dict[str, list[str]] = {product.sku: edges}
            for other in catalog.products:
                if other.sku != product.sku:
                    graph[other.sku] = [
                        *replaced.get(other.sku, []),
                        *([other.successor_sku] if other.successor_sku else []),
                    ]
            check_successors(product.sku, functools.partial(_edges, dict(graph)))
            if product.parent_sku is not None:
                parent = catalog.product(product.parent_sku)
                assert parent is not None
                assert parent.parent_sku is None

    check()
