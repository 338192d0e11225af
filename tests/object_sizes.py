"""How many bytes an object holds, measured on the object itself.

tracemalloc counts every thread's allocations, so in the whole suite a thread another test left
running adds to a measure that was meant for one object (a "memory bounded" check failed so in
CI, stop 43). These tests want the size of one structure: the objects reachable from it, each
counted once, with classes, modules and functions left out as shared by everything.
"""

from __future__ import annotations

import gc
import sys
import types

_SHARED = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType)


def bytes_held(root: object) -> int:
    """``sys.getsizeof`` summed over ``root`` and every object reachable from it, each once."""
    seen: set[int] = set()
    pending: list[object] = [root]
    total = 0
    while pending:
        item = pending.pop()
        if id(item) in seen or isinstance(item, _SHARED):
            continue
        seen.add(id(item))
        total += sys.getsizeof(item)
        pending.extend(gc.get_referents(item))
    return total
