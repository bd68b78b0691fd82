"""Reading ``params/<client>.yaml``: duplicate keys refused, validation errors as one line naming the file, key and fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from cxnb.config.params import Params
from cxnb.config.sources import PASSWORD_REFUSED
from cxnb.errors import ConfigError, did_you_mean
from cxnb.urls import mask_text


def _known_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """Field names allowed at ``loc`` (the parent of the offending key)."""
    current: Any = model
    for part in loc:
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        ann = fields[part].annotation
        args = getattr(ann, "__args__", ()) or (ann,)
        current = next((a for a in args if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if current is None:
            return []
    return list(getattr(current, "model_fields", {}))


def _describe(error: dict, file: Path) -> str:
    loc = tuple(error["loc"])
    key = ".".join(str(p) for p in loc) or "(top level)"
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _known_keys(Params, loc[:-1])
        return f"{file}: unknown key '{key}'{did_you_mean(loc[-1], allowed)}: allowed here: {', '.join(allowed)}."
    if kind == "missing":
        return f"{file}: missing key '{key}': add it (see params/demo.yaml for an example)."
    msg = error["msg"].removeprefix("Value error, ")
    value = error.get("input")
    shown = f" (got {value!r})" if value is not None and not isinstance(value, dict) and msg != PASSWORD_REFUSED else ""
    if kind == "string_pattern_mismatch" and loc == ("client",):
        msg = "use a lower-case slug of letters, digits, '-' or '_', e.g. 'acme'"
    return mask_text(f"{file}: key '{key}'{shown}: {msg}.")


class _ParamsLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader that refuses aliases, so a file cannot expand without bound ("billion laughs")."""

    file: Path = Path("params.yaml")

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise ConfigError(f"{self.file}: line {event.start_mark.line + 1}: YAML aliases ('*{event.anchor}') are "
                              "not allowed in a parameter file; write the value out in full.")
        return super().compose_node(parent, index)


def _check_duplicate_keys(loader: _ParamsLoader, node: yaml.Node, where: tuple[str, ...] = ()) -> None:
    """Raise ConfigError naming a key given twice in one mapping (at any level) and both of its lines."""
    if isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_duplicate_keys(loader, item, (*where, str(i)))
        return
    if not isinstance(node, yaml.MappingNode):
        return
    seen: dict[Any, yaml.Mark] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True) if isinstance(key_node, yaml.ScalarNode) else None
        if key is not None and key_node.tag != "tag:yaml.org,2002:merge":
            if key in seen:
                raise ConfigError(f"{loader.file}: key '{'.'.join((*where, str(key)))}' is given twice "
                                  f"({_lines(seen[key], key_node.start_mark)}); keep one of them.")
            seen[key] = key_node.start_mark
        _check_duplicate_keys(loader, value_node, (*where, str(key)))


def _lines(first: yaml.Mark, second: yaml.Mark) -> str:
    """Where two keys are: ``lines 1 and 4``, or ``line 5, columns 14 and 39``."""
    if first.line == second.line:
        return f"line {first.line + 1}, columns {first.column + 1} and {second.column + 1}"
    return f"lines {first.line + 1} and {second.line + 1}"


def read_yaml(path: Path) -> Any:
    """The parsed parameter file; duplicated keys and aliases are errors (ConfigError), not silently resolved."""
    loader = _ParamsLoader(path.read_text(encoding="utf-8"))
    loader.file = path
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_duplicate_keys(loader, node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def not_a_parameter_file(path: Path) -> ConfigError:
    """The one-line refusal of a parameter path that is a folder or missing."""
    if path.is_dir():
        inside = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
        example = inside[0] if inside else path / "<client>.yaml"
        return ConfigError(f"{path}: is a folder; give the YAML file inside, e.g. {example}.")
    return ConfigError(f"{path}: parameter file not found; give the path to params/<client>.yaml.")


def load_params(path: str | Path, check_files: bool = True) -> Params:
    """Read and validate a parameter file; raise ConfigError naming the file, key and fix."""
    path = Path(path)
    if not path.is_file():
        raise not_a_parameter_file(path)
    try:
        raw = read_yaml(path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}:{where}: not valid YAML ({getattr(exc, 'problem', exc)}); fix the syntax.") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; save the parameter file as UTF-8.") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of keys (client:, data:, ...) at the top level.")
    try:
        params = Params.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc.errors()[0], path)) from None
    params._path = path.resolve()
    check_source_keys(params)
    if check_files:
        check_sources(params)
    return params


FILE_SOURCE_HINTS = {
    "query": "to keep only some rows of a file write 'where:' (a SQL condition on its columns)",
    "table": "for one sheet of an Excel workbook write read_options: {sheet_name: ...}",
}


def check_source_keys(params: Params) -> None:
    """``table:``/``query:`` only where they mean something (a SQL or Spark source); SQL sources have one."""
    for name, table in params.tables().items():
        kind = table.kind()
        if kind == "sql" and not (table.table or table.query):
            raise ConfigError(f"{params.path}: key 'data.{name}': a SQL source needs 'table:' or 'query:'.")
        if kind in ("file", "demo"):
            for key, hint in FILE_SOURCE_HINTS.items():
                if getattr(table, key) is not None:
                    raise ConfigError(f"{params.path}: key 'data.{name}.{key}': '{key}:' works only with a "
                                      f"database URL or spark source, not a {kind} source; {hint}, or remove it.")


def check_sources(params: Params) -> None:
    """Every file source exists and has a readable type."""
    for name, table in params.tables().items():
        if table.kind() != "file":
            continue
        path = params.source_path(name)
        if not path.exists():
            raise ConfigError(mask_text(
                f"{params.path}: key 'data.{name}.source': file '{table.source}' not found (looked for {path}); "
                "paths are relative to the parameter file."
            ))


