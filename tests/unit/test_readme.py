"""The README's configuration table lists exactly the environment variables the settings read.

The settings are parsed, not imported: a variable read only on one branch (``SECURE_*``
when ``DEBUG`` is off) counts as much as one read on every start.
"""

import ast
import re
import textwrap

from tests.support.paths import REPO

SETTINGS = REPO / "labsite" / "settings.py"
README = REPO / "README.md"
#: Methods of ``os.environ`` that read a variable by name.
ENVIRON_METHODS = {"get", "setdefault", "pop"}


def _dotted(node) -> str:
    """``os.environ.get`` for the expression ``os.environ.get``; "" for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and (base := _dotted(node.value)):
        return f"{base}.{node.attr}"
    return ""


def _is_environ(node) -> bool:
    return _dotted(node) in ("os.environ", "environ")


def _environ_key(node):
    """The expression naming the variable that ``node`` reads, if it reads one:
    ``os.environ.get(K)``, ``os.getenv(K)``, ``os.environ[K]``, ``K in os.environ``."""
    if isinstance(node, ast.Call) and node.args:
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr in ENVIRON_METHODS
            and _is_environ(func.value)
        ):
            return node.args[0]
        if _dotted(func) in ("os.getenv", "getenv"):
            return node.args[0]
    if isinstance(node, ast.Subscript) and _is_environ(node.value):
        return node.slice
    if isinstance(node, ast.Compare) and any(_is_environ(c) for c in node.comparators):
        return node.left
    return None


def _helpers(tree) -> dict[str, tuple[int | None, str]]:
    """Functions that read the variable named by one of their parameters (``envint(name,
    default)``): their name -> that parameter's position (None: keyword-only) and name."""
    helpers = {}
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef):
            continue
        positional = [arg.arg for arg in function.args.posonlyargs + function.args.args]
        keyword_only = [arg.arg for arg in function.args.kwonlyargs]
        for node in ast.walk(function):
            key = _environ_key(node)
            if isinstance(key, ast.Name) and key.id in positional:
                helpers[function.name] = (positional.index(key.id), key.id)
            elif isinstance(key, ast.Name) and key.id in keyword_only:
                helpers[function.name] = (None, key.id)
    return helpers


def _literal(node):
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def variables_read(source: str) -> set[str]:
    """The environment variables that ``source`` reads by a literal name."""
    tree = ast.parse(source)
    helpers = _helpers(tree)
    names = set()
    for node in ast.walk(tree):
        key = _environ_key(node)
        if key is None and isinstance(node, ast.Call) and _dotted(node.func) in helpers:
            position, param = helpers[_dotted(node.func)]
            keywords = {kw.arg: kw.value for kw in node.keywords}
            passed = position is not None and len(node.args) > position
            key = node.args[position] if passed else keywords.get(param)
        if (name := _literal(key)) is not None:
            names.add(name)
    return names


def _labsite_imports(path) -> list:
    """The modules of ``labsite/`` that the module at ``path`` (in ``labsite/``) imports."""
    modules = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            # ``from . import x`` and ``from .x import y`` in labsite/ are labsite's too.
            module = ["labsite"] if node.level == 1 else []
            module += node.module.split(".") if node.module else []
            if module[:1] == ["labsite"]:
                modules += [module, *([*module, alias.name] for alias in node.names)]
        elif isinstance(node, ast.Import):
            modules += [a.name.split(".") for a in node.names if a.name.startswith("labsite.")]
    candidates = [REPO.joinpath(*m).with_suffix(".py") for m in modules]
    candidates += [REPO.joinpath(*m, "__init__.py") for m in modules]
    return [candidate for candidate in candidates if candidate.is_file()]


def settings_variables() -> set[str]:
    """Every variable read by labsite/settings.py and the labsite modules it imports."""
    seen, todo, names = set(), [SETTINGS], set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        names |= variables_read(path.read_text(encoding="utf-8"))
        todo.extend(_labsite_imports(path))
    return names


def readme_table_variables() -> list[str]:
    """The variables in backticks in the first cell of the README's configuration table."""
    text = README.read_text(encoding="utf-8")
    section = re.search(r"^## Configuration\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert section, "README.md has no '## Configuration' section"
    names = []
    for line in section.group(1).splitlines():
        if line.startswith("|"):
            first_cell = line.strip("|").split("|")[0]
            names += re.findall(r"`([A-Z][A-Z0-9_]*)`", first_cell)
    return names


def test_variables_read_finds_every_way_the_settings_read_one():
    source = textwrap.dedent("""
        import os

        def envint(name, default):
            return int(os.environ.get(name, str(default)))

        def envflag(default, *, name):
            return os.getenv(name, default) == "1"

        A = os.environ.get("A")
        B = os.environ["B"]
        C = os.getenv("C", "")
        D = envint("D", 1)
        E = envflag("0", name="E")
        F = "F" not in os.environ
        if value := os.environ.get("G"):
            pass
        H = float(os.environ.get("H", "2"))
        NOT_A_VARIABLE = {"get": 1}.get("I")
    """)
    assert variables_read(source) == set("ABCDEFGH")


def test_settings_read_the_variables_everyone_relies_on():
    # A parser that found nothing would make the next test pass on an empty table.
    assert {
        "DEBUG",
        "DATABASE_URL",
        "SECRET_KEY",
        "LAB_PREDICT_WAIT_SECONDS",
        "CELERY_BROKER_URL",
    } <= settings_variables()


def test_readme_configuration_table_lists_every_variable_the_settings_read():
    missing = sorted(settings_variables() - set(readme_table_variables()))
    assert not missing, (
        "labsite/settings.py reads these environment variables, but the README's "
        f"configuration table does not list them (add a row with the default): {missing}"
    )


def test_readme_configuration_table_lists_only_variables_the_settings_read():
    stale = sorted(set(readme_table_variables()) - settings_variables())
    assert not stale, f"The README's configuration table lists what no setting reads: {stale}"


def test_readme_configuration_table_lists_each_variable_once():
    names = readme_table_variables()
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})
