"""Extension point for higher apps: `surveys` registers what happens when a ticket is resolved.

`support` must not import `surveys`; surveys calls `on_ticket_resolved(fn)` from its
AppConfig.ready(), and the resolve service calls every listener inside its transaction,
with the ticket's id: what a listener writes is committed with the resolution or not at all
(work for later it leaves in the database, and queues after commit).
"""

from collections.abc import Callable

_resolved_listeners: list[Callable[[int], None]] = []


def on_ticket_resolved(listener: Callable[[int], None]) -> Callable[[int], None]:
    if listener not in _resolved_listeners:
        _resolved_listeners.append(listener)
    return listener


def ticket_resolved(ticket_id: int) -> None:
    for listener in tuple(_resolved_listeners):
        listener(ticket_id)
