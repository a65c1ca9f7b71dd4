"""The one hook the counting bench steps share: every botocore client built from now on is handed to a function
that registers its event handlers, until the step takes the hook out again."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import botocore.session


def on_new_clients(register: Callable[[Any], None]) -> Callable[[], None]:
    """Call ``register(client)`` for every botocore client built from now on; returns what takes that out again
    (a step's handlers must not see the next step's clients: they may read through this step's emulator)."""
    original = botocore.session.Session.create_client

    def create_client(session: botocore.session.Session, *args: Any, **kwargs: Any) -> Any:
        client = original(session, *args, **kwargs)
        register(client)
        return client

    botocore.session.Session.create_client = create_client  # type: ignore[method-assign]

    def uninstall() -> None:
        botocore.session.Session.create_client = original  # type: ignore[method-assign]

    return uninstall
