"""Forward-only schema migrations for the SQL adapters (private).

Migrations are data: a version, a description and SQL statements. A migration, once
released, never changes; a later change is a new migration. Statements use only
``TEXT`` and ``INTEGER`` so the same list serves SQLite and PostgreSQL.

A test checks that the migrated schema has a table with every column each
:class:`~b2bcore.storage._documents.Collection` declares.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

__all__ = ["MIGRATIONS", "Migration", "document_table"]


@attrs.frozen
class Migration:
    """One step of the schema."""

    version: int
    description: str
    statements: tuple[str, ...]


def document_table(
    name: str,
    columns: Sequence[tuple[str, str]] = (),
    *,
    unique: Sequence[Sequence[str]] = (),
    order: Sequence[str] = (),
    index_each: bool = True,
) -> list[str]:
    """DDL for a document table: key, version, JSON doc, indexed columns.

    Every column gets an index led by ``company_id`` (queries are per tenant)
    unless ``index_each`` is false (the caller then adds the composite indexes its
    queries need); ``order`` gets one index for keyset pagination; ``unique``
    column sets are unique per company.
    """
    extra = "".join(f", {col} {sql_type}" for col, sql_type in columns)
    statements = [
        (
            f"CREATE TABLE {name} (company_id TEXT NOT NULL, id TEXT NOT NULL, "
            f"version INTEGER NOT NULL, doc TEXT NOT NULL{extra}, PRIMARY KEY (company_id, id))"
        )
    ]
    for col, _ in columns:
        if index_each and col not in order:
            statements.append(f"CREATE INDEX {name}_by_{col} ON {name} (company_id, {col}, id)")
    if order:
        cols = ", ".join(order)
        statements.append(f"CREATE INDEX {name}_order ON {name} (company_id, {cols}, id)")
    for unique_cols in unique:
        joined = ", ".join(unique_cols)
        suffix = "_".join(unique_cols)
        statements.append(
            f"CREATE UNIQUE INDEX {name}_unique_{suffix} ON {name} (company_id, {joined})"
        )
    return statements


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "foundation: companies, business units, users, outbox, audit, idempotency",
        (
            *document_table("companies"),
            *document_table("business_units", [("parent_id", "TEXT")]),
            *document_table(
                "users",
                [("email", "TEXT"), ("bu_ids", "TEXT"), ("status", "TEXT")],
                unique=[("email",)],
            ),
            *document_table("outbox", [("status", "TEXT")]),
            "CREATE INDEX outbox_pending ON outbox (status, id)",
            *document_table(
                "audit",
                [("at", "TEXT"), ("acted_by", "TEXT"), ("action", "TEXT"), ("outcome", "TEXT")],
                order=["at"],
            ),
            *document_table("idempotency"),
        ),
    ),
    Migration(
        2,
        "accounts: roles, grants per user (role_ids), agents, assisted sessions",
        (
            "ALTER TABLE users ADD COLUMN role_ids TEXT NOT NULL DEFAULT '||'",
            "CREATE INDEX users_by_role_ids ON users (company_id, role_ids, id)",
            *document_table("roles"),
            *document_table("agents"),
            *document_table(
                "assisted_sessions", [("agent_id", "TEXT"), ("customer_user_id", "TEXT")]
            ),
        ),
    ),
    Migration(
        3,
        "pricing: price list headers, one row per price rule indexed by target",
        (
            *document_table("price_lists", [("currency", "TEXT")]),
            # A rule row's key is "<list id>#<rule id>"; a list's rules load in list
            # order through the order index; a price lookup finds the rules of one
            # target (sku, product, category, all) through price_rules_by_target,
            # which also carries the lookup's order, so no plan prefers scanning the
            # order index to avoid a sort.
            *document_table(
                "price_rules",
                [
                    ("list_id", "TEXT"),
                    ("position", "INTEGER"),
                    ("target_kind", "TEXT"),
                    ("target_value", "TEXT"),
                ],
                order=["list_id", "position"],
                index_each=False,
            ),
            (
                "CREATE INDEX price_rules_by_target ON price_rules "
                "(company_id, target_kind, target_value, list_id, position, id)"
            ),
        ),
    ),
    Migration(
        4,
        "catalog: categories, products, assortments, relations, relation rules, stock, "
        "reservations",
        (
            *document_table("categories", [("parent_id", "TEXT")]),
            # Products are keyed by SKU; the sku column repeats the key so that a
            # filtered listing can continue after a SKU (a "gt" filter on a column).
            *document_table(
                "products",
                [
                    ("sku", "TEXT"),
                    ("category_id", "TEXT"),
                    ("parent_sku", "TEXT"),
                    ("lifecycle", "TEXT"),
                ],
            ),
            *document_table("assortments", [("level", "INTEGER")], order=["level"]),
            *document_table(
                "product_relations",
                [
                    ("source_sku", "TEXT"),
                    ("target_sku", "TEXT"),
                    ("relation_type", "TEXT"),
                    ("bidirectional", "INTEGER"),
                ],
            ),
            *document_table("relation_rules"),
            *document_table("stock_levels", [("sku", "TEXT"), ("location", "TEXT")]),
            *document_table(
                "reservations", [("sku", "TEXT"), ("reference", "TEXT"), ("status", "TEXT")]
            ),
        ),
    ),
    Migration(
        5,
        "approvals: policies, flows (one pending per subject), budgets, delegations",
        (
            *document_table("approval_policies"),
            # active_subject is "<kind>:<id>" while a flow is pending and "~<flow id>"
            # once it is final, so the unique index allows one pending flow per subject;
            # due_at (NULL when nothing is timed) finds the flows to escalate.
            *document_table(
                "approval_flows",
                [
                    ("status", "TEXT"),
                    ("subject", "TEXT"),
                    ("active_subject", "TEXT"),
                    ("requester_id", "TEXT"),
                    ("due_at", "TEXT"),
                ],
                unique=[("active_subject",)],
            ),
            *document_table("budgets", [("scope_key", "TEXT")], unique=[("scope_key",)]),
            *document_table("delegations", [("delegator_id", "TEXT"), ("delegate_id", "TEXT")]),
        ),
    ),
    Migration(
        6,
        "orders: carts, orders, shipments, invoices, sales quotes, shopping lists",
        (
            *document_table("carts", [("owner_id", "TEXT"), ("status", "TEXT")]),
            # The history is read newest first per company (the order index), filtered
            # by status, requester or unit; the skus and search columns are substring
            # filters (|SKU| and lower-case id / reference / PO number) read with it.
            *document_table(
                "orders",
                [
                    ("created_at", "TEXT"),
                    ("status", "TEXT"),
                    ("requester_id", "TEXT"),
                    ("business_unit_id", "TEXT"),
                    ("skus", "TEXT"),
                    ("search", "TEXT"),
                ],
                order=["created_at"],
                index_each=False,
            ),
            "CREATE INDEX orders_by_status ON orders (company_id, status, created_at, id)",
            "CREATE INDEX orders_by_requester ON orders (company_id, requester_id, created_at, id)",
            (
                "CREATE INDEX orders_by_business_unit ON orders "
                "(company_id, business_unit_id, created_at, id)"
            ),
            *document_table("shipments", [("order_id", "TEXT")]),
            *document_table(
                "invoices",
                [
                    ("issued_at", "TEXT"),
                    ("order_id", "TEXT"),
                    ("status", "TEXT"),
                    ("due_date", "TEXT"),
                    ("requester_id", "TEXT"),
                    ("business_unit_id", "TEXT"),
                ],
                order=["issued_at"],
            ),
            *document_table(
                "sales_quotes",
                [
                    ("created_at", "TEXT"),
                    ("status", "TEXT"),
                    ("requester_id", "TEXT"),
                    ("business_unit_id", "TEXT"),
                ],
                order=["created_at"],
            ),
            *document_table(
                "shopping_lists",
                [("name", "TEXT"), ("owner_id", "TEXT"), ("business_unit_id", "TEXT")],
                order=["name"],
            ),
        ),
    ),
    Migration(
        7,
        "scheduling: service types, resources, bookings, slot claims (no double booking)",
        (
            *document_table("service_types", [("active", "INTEGER")]),
            *document_table("resources", [("resource_group", "TEXT"), ("active", "INTEGER")]),
            *document_table(
                "bookings",
                [
                    ("start_at", "TEXT"),
                    ("status", "TEXT"),
                    ("requester_id", "TEXT"),
                    ("business_unit_id", "TEXT"),
                    ("service_type_id", "TEXT"),
                    ("asset_id", "TEXT"),
                    ("claim_id", "TEXT"),
                ],
                order=["start_at"],
            ),
            # One row per resource, 5-minute granule and seat that a booking occupies,
            # keyed "<resource>#<granule>#<seat>" under the platform tenant: the primary
            # key (company_id, id) is the unique index that refuses a double booking on
            # every store. Slot search reads a booking's first row per resource (head).
            *document_table(
                "slot_claims",
                [
                    ("resource_id", "TEXT"),
                    ("granule", "TEXT"),
                    ("booking", "TEXT"),
                    ("service_type_id", "TEXT"),
                    ("head", "INTEGER"),
                ],
                index_each=False,
            ),
            (
                "CREATE INDEX slot_claims_by_resource ON slot_claims "
                "(company_id, resource_id, granule, id)"
            ),
            "CREATE INDEX slot_claims_by_booking ON slot_claims (company_id, booking, id)",
        ),
    ),
    Migration(
        8,
        "assets, claims, documents: assets (serial number unique per company), claims, "
        "claim messages, claimed quantities per order, documents",
        (
            *document_table(
                "assets",
                [
                    ("serial_key", "TEXT"),
                    ("sku", "TEXT"),
                    ("status", "TEXT"),
                    ("business_unit_id", "TEXT"),
                    ("requester_id", "TEXT"),
                    ("order_id", "TEXT"),
                ],
                unique=[("serial_key",)],
            ),
            # Claims are listed newest first per company (the order index), filtered by
            # status, requester or unit; asset_ids / order_ids are |a|b| substring filters.
            *document_table(
                "claims",
                [
                    ("created_at", "TEXT"),
                    ("status", "TEXT"),
                    ("type_id", "TEXT"),
                    ("requester_id", "TEXT"),
                    ("business_unit_id", "TEXT"),
                    ("asset_ids", "TEXT"),
                    ("order_ids", "TEXT"),
                    ("priority", "TEXT"),
                ],
                order=["created_at"],
                index_each=False,
            ),
            "CREATE INDEX claims_by_status ON claims (company_id, status, created_at, id)",
            "CREATE INDEX claims_by_requester ON claims (company_id, requester_id, created_at, id)",
            (
                "CREATE INDEX claims_by_business_unit ON claims "
                "(company_id, business_unit_id, created_at, id)"
            ),
            # A claim's conversation is read oldest first, one claim at a time.
            *document_table(
                "claim_messages",
                [("claim_id", "TEXT"), ("at", "TEXT"), ("visibility", "TEXT")],
                index_each=False,
            ),
            "CREATE INDEX claim_messages_by_claim ON claim_messages (company_id, claim_id, at, id)",
            # One row per order that claims hold quantities of, keyed by the order id: its
            # version serializes claims racing for the same delivered units.
            *document_table("claim_tallies"),
            # The seller's platform-wide documents live under the platform tenant ('').
            *document_table(
                "documents",
                [("created_at", "TEXT"), ("kind", "TEXT"), ("links", "TEXT")],
                order=["created_at"],
                index_each=False,
            ),
        ),
    ),
)
