"""errors.py's docstring draws the hierarchy; this keeps the drawing true to the classes."""

from __future__ import annotations

import inspect
import re

from chatref import errors


def _drawn() -> dict[str, str | None]:
    """Each class in the docstring's tree, with the class it hangs from."""
    assert errors.__doc__ is not None
    tree = errors.__doc__.split("The hierarchy::", 1)[1]
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in tree.splitlines():
        match = re.match(r"^(\s*(?:[│ ]\s*)*)(?:[├└]── )?(\w+)(?:\s|$)", line)
        if not match or not match.group(2)[0].isupper():
            continue
        depth = len(match.group(1)) + (4 if "──" in line else 0)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[match.group(2)] = stack[-1][1] if stack else None
        stack.append((depth, match.group(2)))
    return parents


def test_the_docstring_tree_is_the_class_tree() -> None:
    classes = {
        name: cls for name, cls in vars(errors).items()
        if inspect.isclass(cls) and issubclass(cls, errors.ChatrefError)
    }
    actual = {
        name: (None if cls is errors.ChatrefError else cls.__bases__[0].__name__)
        for name, cls in classes.items()
    }
    assert _drawn() == actual
