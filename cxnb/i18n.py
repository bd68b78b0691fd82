"""Report text in one message catalogue per language: ``cxnb/messages/<lang>/*.yaml`` (one file per stage)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

LANGUAGES = ("en", "zh")
MESSAGES_DIR = Path(__file__).parent / "messages"


def _flatten(tree: dict, prefix: str = "") -> dict[str, str]:
    out = {}
    for key, value in tree.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, full + "."))
        else:
            out[full] = str(value)
    return out


@lru_cache(maxsize=len(LANGUAGES))
def catalogue(language: str) -> dict[str, str]:
    """All messages of a language as dotted key -> text."""
    if language not in LANGUAGES:
        raise ValueError(f"language '{language}' is not available; use one of {', '.join(LANGUAGES)}")
    merged: dict[str, str] = {}
    for path in sorted((MESSAGES_DIR / language).glob("*.yaml")):
        part = _flatten(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
        clash = set(part) & set(merged)
        if clash:
            raise ValueError(f"{path}: keys defined twice in the {language} catalogue: {sorted(clash)[:5]}")
        merged.update(part)
    return merged


def t(key: str, language: str = "en", **values) -> str:
    """The message ``key`` in ``language``, with ``{placeholders}`` filled from ``values``."""
    text = catalogue(language).get(key)
    if text is None:
        raise KeyError(f"message '{key}' is missing from cxnb/messages/{language}/")
    return text.format(**values) if values else text


class Text:
    """Messages of one language, for a notebook: ``T = Text(run.params.language); T.md("dq.no_pii")``."""

    def __init__(self, language: str = "en"):
        self.language = language

    def __call__(self, key: str, **values) -> str:
        return t(key, self.language, **values)

    def md(self, key: str, **values):
        """The message rendered as Markdown in the notebook (and the HTML report); values from the data stay text."""
        from cxnb.safe import markdown

        return markdown(t(key, self.language, **values))


class Message:
    """A sentence not yet in any language: a catalogue key and its placeholder values, translated at the edge
    (tables, plots, notebooks) by ``text(language)``; values that are messages or :class:`Joined` lists are
    translated first."""

    __slots__ = ("key", "values")

    def __init__(self, key: str, **values):
        self.key, self.values = key, values

    def text(self, language: str = "en") -> str:
        """The sentence in ``language``."""
        return t(self.key, language, **{k: text_of(v, language) for k, v in self.values.items()})

    def __eq__(self, other) -> bool:
        return isinstance(other, Message) and (self.key, self.values) == (other.key, other.values)

    def __repr__(self) -> str:
        return f"Message({self.key!r}, **{self.values!r})"


class Joined:
    """Items (texts or messages) shown as one list, joined by the separator message ``sep``."""

    __slots__ = ("items", "sep")

    def __init__(self, items, sep: str):
        self.items, self.sep = tuple(items), sep

    def text(self, language: str = "en") -> str:
        """The items in ``language``, joined by the separator of that language."""
        return t(self.sep, language).join(text_of(item, language) for item in self.items)

    def __eq__(self, other) -> bool:
        return isinstance(other, Joined) and (self.items, self.sep) == (other.items, other.sep)

    def __repr__(self) -> str:
        return f"Joined({self.items!r}, {self.sep!r})"


def text_of(value, language: str = "en"):
    """``value`` in ``language`` when it is a :class:`Message` or :class:`Joined`, else ``value`` itself."""
    return value.text(language) if isinstance(value, (Message, Joined)) else value
