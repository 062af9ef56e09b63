"""The verbs stand alone: what two of them share lives below commands/."""

import ast
import pathlib

COMMANDS = pathlib.Path(__file__).resolve().parent.parent / "novaseries" / \
    "commands"


def imported(path):
    """The modules a source imports (`from X import Y` counts as X.Y)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update("%s.%s" % (node.module, alias.name)
                         for alias in node.names)
    return names


def test_no_verb_imports_another_verb():
    verbs = sorted(COMMANDS.glob("*.py"))
    assert len(verbs) > 5
    for path in verbs:
        found = sorted(name for name in imported(path)
                       if name.startswith("novaseries.commands"))
        assert found == [], "%s imports %s" % (path.name, ", ".join(found))
