"""A quicker ``__init__`` for the frozen dataclasses ``decide`` builds for every contact.

A frozen dataclass's own ``__init__`` sets each field with ``object.__setattr__``,
looked up and called once per field: a ``Decision`` (16 fields) took about 3 µs to
build, a tenth of a restricted contact's decision. A slotted class keeps each field in
a slot whose descriptor can set it directly, which is what ``direct_init`` does: the same
fields, defaults and errors, the instance as frozen as before (assigning to a field
afterwards still raises ``FrozenInstanceError``), in a bit over half the time.

Only what these classes use is supported (fields set by ``__init__``, plain defaults);
anything else is refused when the class is defined, not worked around.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")


def direct_init(cls: type[T]) -> type[T]:
    """Give the frozen, slotted dataclass ``cls`` an ``__init__`` that sets its slots
    through their descriptors (see the module docstring)."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__} must be a frozen dataclass with slots")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} has __post_init__, which direct_init does not call")
    namespace: dict[str, Any] = {}
    args, body = [], []
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if not field.init or field.kw_only or field.default_factory is not dataclasses.MISSING:
            raise TypeError(
                f"{cls.__name__}.{field.name}: direct_init takes only fields set by "
                "__init__ with a plain default or none"
            )
        name = field.name
        namespace[f"_set_{name}"] = cls.__dict__[name].__set__
        if field.default is dataclasses.MISSING:
            args.append(name)
        else:
            namespace[f"_default_{name}"] = field.default
            args.append(f"{name}=_default_{name}")
        body.append(f"    _set_{name}(self, {name})")
    source = f"def __init__(self, {', '.join(args)}):\n" + "\n".join(body or ["    pass"])
    # As dataclasses builds __init__ itself; the source holds only the field names.
    exec(source, namespace)  # noqa: S102
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init  # type: ignore[method-assign]
    return cls
