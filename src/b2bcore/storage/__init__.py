"""Storage: the unit of work, its ports, and the adapters.

* :class:`~b2bcore.storage.memory.MemoryStore` — in-process, thread-safe;
* :class:`~b2bcore.storage.sqlite.SQLiteStore` — the embedded default;
* :class:`~b2bcore.storage.postgres.PostgresStore` — PostgreSQL, when one machine is
  not enough (the extra ``b2bcore[postgres]``);
* your own: implement the ports and prove it with :mod:`b2bcore.testing.contracts`.
"""

from b2bcore.storage.dispatch import DispatchReport, Handler, dispatch
from b2bcore.storage.ports import AuditLog, IdempotencyStore, Outbox, Store, UnitOfWork

__all__ = [
    "AuditLog",
    "DispatchReport",
    "Handler",
    "IdempotencyStore",
    "Outbox",
    "Store",
    "UnitOfWork",
    "dispatch",
]
