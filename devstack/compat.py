"""Work-arounds for the interpreter the embedded stack runs on."""
from __future__ import annotations

import ast
import threading
from typing import Any

_LOCK = threading.RLock()


def serialize_ast_parse() -> None:
    """Make ``ast.parse`` take one process-wide lock (once; re-entrant).

    CPython 3.11 keeps the AST constructor's recursion depth in interpreter state that every thread shares
    (``Python-ast.c``: ``state->recursion_depth``), and building the tree allocates objects, which can run the
    garbage collector and hand the GIL to another thread mid-way. Two threads parsing at once then fail with
    ``SystemError: AST constructor recursion depth mismatch``. The embedded stack runs the API and every consumer
    as threads of one process, and both sides parse: ``traceback`` parses the failing line to underline it
    whenever a thread logs an exception, hypothesis parses a lambda's source to describe a strategy (the fuzz test
    runs in the same process as the stack). So ``ast.parse`` is serialised here; in a deployed Lambda one request
    runs at a time and nothing changes."""
    if getattr(ast.parse, "_serialized", False):
        return
    original = ast.parse

    def parse(*args: Any, **kwargs: Any) -> ast.AST:
        with _LOCK:
            return original(*args, **kwargs)

    parse._serialized = True  # type: ignore[attr-defined]
    ast.parse = parse  # type: ignore[assignment]
