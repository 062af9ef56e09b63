"""Which tests execute which functions of the released tree.

A map is made by `nova-series covmap RELEASE` (commands/covmap.py): the
tree's whole unit and functional suites run on the baseline under
coverage.py, each test in a coverage context of its own, measuring the
files the release's series changes (its scope). It is stored in
covmap/RELEASE.json.gz, so that no verify pays for making it, with the
baseline's git tree id and the blob id of every file of its scope: a map
is only used for the baseline it was made from.

A function is known by its file and qualified name ("nova/compute/
manager.py:ComputeManager._resize_instance"); a test executes it when it
runs a line of its body (a def line runs at import, under whatever test
imported the module first, and does not count).

For a commit, `select` finds the functions whose lines the diff removes
(read in the parent's source) or adds (read in the commit's), decorators
included, and the tests that execute any of them. A function the map
does not know (the commit adds it, or an earlier commit of the series
did) is reached through the functions of its file that name it, before
or after the commit, and through theirs in turn, up to the functions the
map knows (an inner function through its outer one). A changed line
outside every function (module or class level) selects the tests of
every function of that class or module, unless it is only imports,
comments, blank lines or docstrings.
"""

import ast
import base64
import dataclasses
import gzip
import json
import re

from novaseries import git as gitmod
from novaseries import selection

FORMAT = 1
PATCHED = re.compile(r"^diff --git a/(\S+) b/", re.M)


def in_scope(path):
    """Files a map measures: Nova's code, not its tests."""
    return (path.startswith("nova/") and path.endswith(".py")
            and not path.startswith("nova/tests/"))


# --- functions of a source ---------------------------------------------

@dataclasses.dataclass(frozen=True)
class Function:
    qualname: str
    first: int          # its first decorator's line, or the def line
    body: int           # the first line of the body
    last: int
    cls: str = ""       # the qualified name of its class, if a method


def functions(source, classes=None):
    """Every def of a module, nested ones too, as Function records; None
    if the source cannot be parsed. Fills `classes`, if given, with
    (qualified name, first line, last line) of every class."""
    tree = selection._parse(source)
    if tree is None:
        return None
    found = []

    def visit(node, prefix, cls):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = prefix + child.name
                first = min([child.lineno] + [d.lineno for d in
                                              child.decorator_list])
                found.append(Function(name, first, child.body[0].lineno,
                                      child.end_lineno, cls))
                visit(child, name + ".", "")
            elif isinstance(child, ast.ClassDef):
                name = prefix + child.name
                if classes is not None:
                    classes.append((name, child.lineno, child.end_lineno))
                visit(child, name + ".", name)
            else:
                visit(child, prefix, cls)

    visit(tree, "", "")
    return found


def innermost(funcs, line):
    """The innermost function whose span holds `line`, or None."""
    best = None
    for func in funcs:
        if func.first <= line <= func.last:
            if best is None or func.first >= best.first:
                best = func
    return best


# --- the stored map ----------------------------------------------------

def _encode(indexes):
    """Sorted ints as base64 of delta varints (a map stays small)."""
    out = bytearray()
    previous = -1
    for value in indexes:
        delta = value - previous - 1
        previous = value
        while True:
            byte = delta & 0x7F
            delta >>= 7
            out.append(byte | (0x80 if delta else 0))
            if not delta:
                break
    return base64.b64encode(bytes(out)).decode("ascii")


def _decode(text):
    values, previous, shift, delta = [], -1, 0, 0
    for byte in base64.b64decode(text):
        delta |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
            continue
        previous = previous + delta + 1
        values.append(previous)
        shift = delta = 0
    return values


@dataclasses.dataclass
class Map:
    release: str
    baseline_tree: str
    files: dict               # path -> blob id at the baseline
    tests: list               # every test id the suites ran
    executed: dict            # "path:qualname" -> set of test indexes
    made: dict = dataclasses.field(default_factory=dict)

    def key(self, path, qualname):
        return "%s:%s" % (path, qualname)

    def tests_of(self, keys):
        indexes = set()
        for key in keys:
            indexes |= self.executed.get(key, set())
        return {self.tests[i] for i in indexes}

    def functions_of(self, path, cls=None):
        """Keys of the map's functions of a file (of one class)."""
        prefix = self.key(path, cls + "." if cls else "")
        return [k for k in self.executed if k.startswith(prefix)]

    def dumps(self):
        # Functions executed by the same tests share one encoded set.
        sets, refs = {}, {}
        for key in sorted(self.executed):
            encoded = _encode(sorted(self.executed[key]))
            refs[key] = sets.setdefault(encoded, len(sets))
        return json.dumps({
            "format": FORMAT, "release": self.release,
            "baseline_tree": self.baseline_tree, "files": self.files,
            "made": self.made, "tests": self.tests,
            "sets": sorted(sets, key=sets.get), "functions": refs,
        }, indent=0, sort_keys=True)

    @classmethod
    def loads(cls, text):
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise ValueError("covmap format %r, this tool reads %d"
                             % (data.get("format"), FORMAT))
        sets = [set(_decode(s)) for s in data["sets"]]
        return cls(data["release"], data["baseline_tree"], data["files"],
                   data["tests"],
                   {k: sets[i] for k, i in data["functions"].items()},
                   data.get("made", {}))

    def save(self, path):
        path.parent.mkdir(parents=True, exist_ok=True)
        # mtime=0: the same map is the same bytes.
        with gzip.GzipFile(str(path), "wb", mtime=0) as f:
            f.write(self.dumps().encode())

    @classmethod
    def load(cls, path):
        with gzip.open(str(path), "rb") as f:
            return cls.loads(f.read().decode())


def stale(cmap, repo, baseline, paths):
    """Why the map cannot be used for these changed paths of a series on
    `baseline`, or "" if it can."""
    tree = repo.out("rev-parse", baseline + "^{tree}")
    if tree != cmap.baseline_tree:
        return "made from baseline tree %s, not %s" % (
            cmap.baseline_tree[:12], tree[:12])
    outside = sorted(p for p in paths if in_scope(p) and p not in cmap.files
                     and repo.run("cat-file", "-e", "%s:%s" % (baseline, p),
                                  check=False).returncode == 0)
    if outside:
        return "does not measure %s" % ", ".join(outside)
    return ""


# --- a release's stored map ----------------------------------------------

def path_of(ctx, release):
    return ctx.paths.root / "covmap" / (release.name + ".json.gz")


def series_files(ctx, release):
    """Every file a patch of the release's series touches."""
    found = set()
    for patch in sorted(ctx.paths.series(release.name).glob("*.patch")):
        found.update(PATCHED.findall(patch.read_text(errors="replace")))
    return found


def usable(ctx, release, repo):
    """(the stored map, "") if it serves the series on disk applied in
    `repo`, else (None, why not)."""
    path = path_of(ctx, release)
    if not path.exists():
        return None, "no map %s: run `nova-series covmap %s`" % (
            path.relative_to(ctx.paths.root), release.name)
    cmap = Map.load(path)
    why = stale(cmap, repo, gitmod.BASELINE_TAG, series_files(ctx, release))
    if why:
        return None, "the map is stale: %s; run `nova-series covmap %s`" % (
            why, release.name)
    return cmap, ""


# --- the selection of a commit -----------------------------------------

def _touched(diff_text):
    """(lines of the old file, lines of the new file) a -U0 diff removes
    or adds."""
    old, new = set(), set()
    for o_start, o_count, n_start, n_count in selection.HUNK.findall(
            diff_text):
        for lines, start, count in ((old, o_start, o_count),
                                    (new, n_start, n_count)):
            start, count = int(start), int(count) if count != "" else 1
            lines.update(range(start, start + count))
    return old, new


def _inert(text):
    """Whether a module- or class-level line changes no behaviour a test
    of a function could see: imports, comments, blank, docstring text."""
    line = text.strip()
    return (not line or line.startswith(("#", "import ", "from ", '"""',
                                         "'''", ")"))
            or not any(c in line for c in "=()[]{}:"))


def select(cmap, repo, commit):
    """(test ids, changed function keys, note) for a commit."""
    keys = set()
    notes = []
    for path in repo.changed_files(commit + "^", commit):
        if not in_scope(path):
            continue
        old = repo.run("show", "%s^:%s" % (commit, path), check=False)
        new = repo.run("show", "%s:%s" % (commit, path), check=False)
        if old.returncode != 0:
            notes.append("%s is new" % path)
            continue
        sides = []
        for shown in (old, new):
            classes = []
            funcs = functions(shown.stdout, classes) \
                if shown.returncode == 0 else []
            if funcs is None:
                break
            sides.append((funcs, classes, shown.stdout.splitlines()))
        if len(sides) < 2:
            keys.update(cmap.functions_of(path))      # cannot parse it
            continue
        diff = repo.out("diff", "-U0", "--no-renames", commit + "^", commit,
                        "--", path)
        # A removed line is read in the old source, an added one in the
        # new: lines added to a function select it, a function added
        # whole is new (below).
        for (funcs, classes, text), lines in zip(sides, _touched(diff)):
            for line in sorted(lines):
                func = innermost(funcs, line)
                if func is not None:
                    keys.add(cmap.key(path, func.qualname))
                    continue
                if line > len(text) or _inert(text[line - 1]):
                    continue
                owners = [c for c in classes if c[1] <= line <= c[2]]
                keys.update(cmap.functions_of(
                    path, max(owners, key=lambda c: c[1])[0] if owners
                    else None))
        # Functions the map does not know: the ones this commit adds and
        # the changed ones an earlier commit of the series added.
        unknown = {k.split(":", 1)[1] for k in keys
                   if k.startswith(path + ":") and k not in cmap.executed}
        sources = [(funcs, text) for funcs, _, text in sides]
        keys.update(_callers(cmap, path, sources, unknown))
    tests = cmap.tests_of(keys)
    return tests, sorted(keys), "; ".join(notes)


def _callers(cmap, path, sources, unknown):
    """Map keys of the functions of `path` that name one of the `unknown`
    functions, or name a function that does, and so on: a function the
    map does not know is reached through the known ones calling it.
    `sources` are (functions, lines) of the file before and after."""
    found, seen = set(), set()
    defined = {f.qualname for funcs, _ in sources for f in funcs}
    todo = sorted(unknown)
    while todo:
        qualname = todo.pop()
        outer, _, name = qualname.rpartition(".")
        if outer in defined:
            # A function defined in another is called by it: its name
            # (often a plain word) is not looked for anywhere else.
            key = cmap.key(path, outer)
            if key in cmap.executed:
                found.add(key)
            else:
                todo.append(outer)
            continue
        if name in seen:
            continue
        seen.add(name)
        pattern = re.compile(r"\b%s\b" % re.escape(name))
        for funcs, text in sources:
            for func in funcs:
                body = "\n".join(text[func.body - 1:func.last])
                if not pattern.search(body):
                    continue
                key = cmap.key(path, func.qualname)
                if key in cmap.executed:
                    found.add(key)
                else:
                    todo.append(func.qualname)
    return found
