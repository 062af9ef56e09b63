"""Which tests a commit adds or changes, as stestr selections.

A changed line inside a test method selects that method; inside any
other function of a test module (a helper), the test methods that call
it by name, or its whole class when none does; anywhere else in the
module (imports, module-level setup), the whole module.
"""

import ast
import re

# (old start, old count, new start, new count) of a unified diff's hunk.
HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@", re.M)


def module_name(path):
    """nova/tests/unit/test_x.py -> nova.tests.unit.test_x, else None."""
    if not (path.startswith("nova/tests/") and path.endswith(".py")):
        return None
    if not path.rsplit("/", 1)[-1].startswith("test_"):
        return None
    return path[:-3].replace("/", ".")


def changed_lines(diff_text):
    """Line numbers of the new file touched by a -U0 diff."""
    lines = set()
    for _, _, start, count in HUNK.findall(diff_text):
        start, count = int(start), int(count) if count != "" else 1
        # A pure deletion (count 0) touches the line it follows.
        lines.update(range(start, start + count) if count else [max(start, 1)])
    return lines


def _functions(tree):
    """(class name or None, function node) for every def, outermost first."""
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    yield node, item
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield None, node


def _calls(func, name):
    return any(isinstance(n, ast.Attribute) and n.attr == name
               or isinstance(n, ast.Name) and n.id == name
               for n in ast.walk(func))


def _parse(source):
    """The module's syntax tree, or None if Python 3 cannot parse it.

    The older releases are Python 2 code that may use `async` as a name,
    a keyword since Python 3.7; it is renamed first (line numbers stay).
    """
    for text in (source, re.sub(r"\b(async|await)\b", r"\1_", source)):
        try:
            return ast.parse(text)
        except SyntaxError:
            continue
    return None


def tests_for(module, source, lines):
    """Selections for the changed `lines` of a test module's new source."""
    tree = _parse(source)
    if tree is None:
        return [module]
    # Blank and comment lines select nothing by themselves.
    text = source.splitlines()
    lines = {n for n in lines if n <= len(text) and text[n - 1].strip()
             and not text[n - 1].strip().startswith("#")}
    selected = set()
    functions = list(_functions(tree))
    covered = set()
    for cls, func in functions:
        span = set(range(func.lineno - len(func.decorator_list),
                         func.end_lineno + 1))
        hit = span & lines
        if not hit:
            continue
        covered |= hit
        if cls is not None and func.name.startswith("test"):
            selected.add("%s.%s.%s" % (module, cls.name, func.name))
            continue
        callers = ["%s.%s.%s" % (module, c.name, f.name)
                   for c, f in functions
                   if c is not None and f.name.startswith("test")
                   and f is not func and _calls(f, func.name)]
        if callers:
            selected.update(callers)
        else:
            selected.add("%s.%s" % (module, cls.name) if cls else module)
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            span = set(range(node.lineno, node.end_lineno + 1))
            if (span & lines) - covered:
                selected.add("%s.%s" % (module, node.name))
                covered |= span & lines
    if lines - covered:
        return [module]
    return sorted(selected)


def covered_by(selection, others):
    """Whether one of `others` (module, class or test names) selects all
    that `selection` does."""
    return any(selection == o or selection.startswith(o + ".")
               for o in others)


def _drop_covered(selections):
    """Leave out selections that a shorter one already matches as a prefix."""
    kept = []
    for sel in sorted(selections):
        if not any(sel.startswith(k + ".") for k in kept):
            kept.append(sel)
    return kept


def for_commit(repo, commit):
    """Test selections for what `commit` adds or changes."""
    selections = set()
    for path in repo.changed_files(commit + "^", commit):
        module = module_name(path)
        if module is None:
            continue
        proc = repo.run("show", "%s:%s" % (commit, path), check=False)
        if proc.returncode != 0:      # deleted by the commit
            continue
        diff = repo.out("diff", "-U0", "--no-renames", commit + "^", commit,
                        "--", path)
        selections.update(tests_for(module, proc.stdout, changed_lines(diff)))
    return _drop_covered(selections)


def for_commits(repo, commits):
    """Test selections for what any of `commits` adds or changes.

    Run at the last commit; a test that a later commit renamed or deleted
    just matches nothing there.
    """
    selections = set()
    for commit in commits:
        selections.update(for_commit(repo, commit))
    return _drop_covered(selections)
