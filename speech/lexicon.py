"""The customer-editable domain lexicon: hot-words for Whisper and sound-alike slip correction.

One file (``callscope/data/lexicon.txt`` by default; format in its header) feeds three things:
Whisper's initial prompt, the correction of transcription slips that sound exactly like a lexicon
term (签罩 -> 千兆, 张单分欺 -> 账单分期), and later jieba's user dictionary in ``nlp/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DEFAULT_LEXICON = Path(__file__).resolve().parent.parent / "callscope" / "data" / "lexicon.txt"
_HAN = re.compile(r"[\u4e00-\u9fff]+")


class LexiconError(ValueError):
    """A malformed lexicon file; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class Term:
    """A domain word, its category and the other ways it is written."""

    text: str
    category: str = "term"
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Lexicon:
    """The loaded lexicon; ``terms`` keep file order, which is the customer's priority order."""

    terms: tuple[Term, ...]
    source: str = ""

    def words(self) -> list[str]:
        """Every term and alias, each once, in file order."""
        seen: dict[str, None] = {}
        for term in self.terms:
            seen.setdefault(term.text)
            for alias in term.aliases:
                seen.setdefault(alias)
        return list(seen)

    def prompt(self, max_chars: int = 120) -> str:
        """Whisper initial prompt: a simplified-Chinese sentence, then hot-words up to ``max_chars``."""
        text = "以下是普通话的客服电话录音。"
        words: list[str] = []
        for word in self.words():
            if len(text) + sum(len(w) + 1 for w in words) + len(word) + 1 > max_chars:
                break
            words.append(word)
        return text + "、".join(words) + ("。" if words else "")

    def correct(self, text: str) -> str:
        """Replace runs that sound like a lexicon word but are spelled otherwise.

        Two-character words must match in toneless pinyin exactly (签罩 -> 千兆); longer words also
        match with the usual accent mergers zh/z, ch/c, sh/s, -ng/-n (赞单分期 -> 账单分期), where
        a false match is unlikely.
        """
        table = _pinyin_table(tuple(w for w in self.words() if len(w) >= 2 and _HAN.fullmatch(w)))
        if not table:
            return text
        return _HAN.sub(lambda m: _correct_run(m.group(0), table), text)


def load_lexicon(path: str | Path | None = None) -> Lexicon:
    """Read a lexicon file (default: the bundled one); ``LexiconError`` names any bad line."""
    path = Path(path) if path is not None else DEFAULT_LEXICON
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise LexiconError(f"{path}: cannot read lexicon ({exc})") from exc
    terms: list[Term] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        cols = line.split()
        if len(cols) > 3:
            raise LexiconError(
                f"{path}:{number}: expected 'TERM [CATEGORY] [ALIAS|ALIAS]', got {len(cols)} columns"
            )
        text = cols[0]
        if text in seen:
            raise LexiconError(f"{path}:{number}: term {text!r} already defined on line {seen[text]}")
        seen[text] = number
        aliases = tuple(a for a in cols[2].split("|") if a) if len(cols) == 3 else ()
        terms.append(Term(text, cols[1] if len(cols) > 1 else "term", aliases))
    return Lexicon(tuple(terms), str(path))


@lru_cache(maxsize=8)
def _pinyin_table(words: tuple[str, ...]) -> dict[int, dict[tuple[str, ...], str]]:
    """Lexicon words keyed by length, then by their toneless pinyin syllables."""
    table: dict[int, dict[tuple[str, ...], str]] = {}
    for word in words:
        syllables = _syllables(word)
        table.setdefault(len(word), {}).setdefault(syllables, word)
        if len(word) >= 3:
            table[len(word)].setdefault(_fuzzy(syllables), word)
    return table


def _fuzzy(syllables: tuple[str, ...]) -> tuple[str, ...]:
    """Syllables with retroflex and nasal-ending distinctions merged (accent-tolerant key)."""
    return tuple("~" + _MERGE.sub(lambda m: _MERGERS[m.group(0)], s) for s in syllables)


_MERGERS = {"zh": "z", "ch": "c", "sh": "s", "ng": "n"}
_MERGE = re.compile(r"^(zh|ch|sh)|ng$")


def _syllables(text: str) -> tuple[str, ...]:
    from pypinyin import lazy_pinyin

    return tuple(lazy_pinyin(text))


def _correct_run(run: str, table: dict[int, dict[tuple[str, ...], str]]) -> str:
    """Left-to-right, longest-first replacement inside one run of Chinese characters."""
    syllables = _syllables(run)
    if len(syllables) != len(run):  # pypinyin merged something; leave the run alone
        return run
    out, i = [], 0
    lengths = sorted(table, reverse=True)
    while i < len(run):
        for n in lengths:
            key = tuple(syllables[i : i + n])
            word = (table[n].get(key) or (table[n].get(_fuzzy(key)) if n >= 3 else None)) if i + n <= len(run) else None
            if word is not None:
                out.append(word)
                i += n
                break
        else:
            out.append(run[i])
            i += 1
    return "".join(out)
