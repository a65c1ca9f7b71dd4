"""The embedded stack's work-around for CPython 3.11's shared AST recursion depth (``devstack.compat``)."""
from __future__ import annotations

import ast
import sys
import threading

from devstack.compat import serialize_ast_parse


def test_ast_parse_is_serialised_once_and_still_parses():
    serialize_ast_parse()
    first = ast.parse
    serialize_ast_parse()
    assert ast.parse is first and getattr(ast.parse, "_serialized", False)
    assert isinstance(ast.parse("x = [1, (2, 3)]").body[0], ast.Assign)


def test_threads_parsing_at_once_take_turns_without_deadlock_or_error():
    """The race itself does not reproduce on demand here (it needs the collector to switch threads mid-parse); this
    shows the lock lets every thread through, switched often, without an error."""
    serialize_ast_parse()
    source = "x = " + "(" * 100 + "1" + ")" * 100
    errors: list[BaseException] = []

    def parse_often() -> None:
        for _ in range(15):
            try:
                ast.parse(source)
                ast.parse("def f(a, b):\n    return [a + b for _ in range(3)]\n")
            except BaseException as exc:  # noqa: BLE001 - any failure is the finding
                errors.append(exc)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-3)  # hand the GIL over often (the lock must not deadlock or starve anyone)
    try:
        threads = [threading.Thread(target=parse_often) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads)
    finally:
        sys.setswitchinterval(old)
    assert errors == []
