"""The customer-editable domain lexicon: hot-words for Whisper and sound-alike slip correction.

One file (``callscope/data/lexicon.txt`` by default; format in its header) feeds three things:
Whisper's initial prompt, the correction of transcription slips that sound exactly like a lexicon
term (签罩 -> 千兆, 张单分欺 -> 账单分期), and later jieba's user dictionary in ``nlp/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

DEFAULT_LEXICON = Path(__file__).resolve().parent.parent / "callscope" / "data" / "lexicon.txt"
_HAN = re.compile(r"[\u4e00-\u9fff]+")
# a run of Chinese that may hold lone digits: Whisper writes a syllable that sounds like a number as
# the digit (分期 -> 分7, 逾期 -> 逾7), so a lone digit between characters may be part of a word
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+(?:\d(?![\d.%])[\u4e00-\u9fff]*)*")
_DIGIT_SYLLABLE = dict(zip("0123456789", "零一二三四五六七八九"))
# after a digit, these make it a real number (分7期 is seven instalments, not 分期期)
_COUNTED = set("期个月天年号点次块元角毛万千百亿分秒岁倍位张笔台条成折度")
# a two-character neighbour must be this common in jieba to stop a slip next to it being corrected
STRADDLE_MIN_COUNT = 20


class LexiconError(ValueError):
    """A malformed lexicon file; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class Term:
    """A domain word, its category and the other ways it is written."""

    text: str
    category: str = "term"
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Rewrite:
    """A pattern Whisper gets wrong the same way every time, and what it should read (regex)."""

    pattern: re.Pattern[str]
    replacement: str


@dataclass(frozen=True, slots=True)
class Lexicon:
    """The loaded lexicon; ``terms`` keep file order, which is the customer's priority order."""

    terms: tuple[Term, ...]
    source: str = ""
    rewrites: tuple[Rewrite, ...] = ()

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
        if max_chars <= len(text):
            return text
        words: list[str] = []
        for word in self.words():
            if len(text) + sum(len(w) + 1 for w in words) + len(word) + 1 > max_chars:
                break
            words.append(word)
        return text + "、".join(words) + ("。" if words else "")

    def correct(self, text: str) -> str:
        """Replace runs that sound like a lexicon word but are spelled otherwise.

        Two-character words must match in pinyin with tones (签罩 -> 千兆, but 合适 stays and does
        not become 核实), or without tones where the heard span is no word at all (分七 -> 分期);
        longer words match without tones and with the usual accent mergers zh/z, ch/c, sh/s,
        -ng/-n (张单分欺, 赞单分期 -> 账单分期), where a false match is unlikely.
        """
        words = tuple(w for w in self.words() if len(w) >= 2 and _HAN.fullmatch(w))
        if words:
            text = _HAN_RUN.sub(lambda m: _corrected_with_digits(m.group(0), words), text)
        for rewrite in self.rewrites:
            text = rewrite.pattern.sub(rewrite.replacement, text)
        return text


def load_lexicon(path: str | Path | None = None) -> Lexicon:
    """Read a lexicon file (default: the bundled one); ``LexiconError`` names any bad line."""
    path = Path(path) if path is not None else DEFAULT_LEXICON
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise LexiconError(f"{path}: cannot read lexicon ({exc})") from exc
    terms: list[Term] = []
    rewrites: list[Rewrite] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("/"):
            rewrites.append(_rewrite(line, f"{path}:{number}"))
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
    return Lexicon(tuple(terms), str(path), tuple(rewrites))


def _rewrite(line: str, where: str) -> Rewrite:
    """Parse ``/REGEX/ REPLACEMENT`` (replacement may use \\1 for groups)."""
    end = line.rfind("/")
    if end == 0:
        raise LexiconError(f"{where}: a rewrite is written /REGEX/ REPLACEMENT")
    try:
        pattern = re.compile(line[1:end])
    except re.error as exc:
        raise LexiconError(f"{where}: bad regular expression ({exc})") from exc
    replacement = line[end + 1 :].strip()
    try:
        pattern.sub(replacement, "")
    except (re.error, IndexError) as exc:
        raise LexiconError(f"{where}: bad replacement {replacement!r} ({exc})") from exc
    return Rewrite(pattern, replacement)


@lru_cache(maxsize=8)
def _pinyin_table(words: tuple[str, ...]) -> dict[int, dict[tuple[str, ...], str]]:
    """Lexicon words keyed by length, then by their sound keys (see ``_keys``)."""
    table: dict[int, dict[tuple[str, ...], str]] = {}
    for word in words:
        toned = _syllables(word)
        if len(toned) == len(word):
            for key in {*_keys(toned), _toneless(toned)}:
                table.setdefault(len(word), {}).setdefault(key, word)
    return table


def _keys(toned: tuple[str, ...]) -> list[tuple[str, ...]]:
    """How a span may match a word of its length: two syllables must agree in tone too (核实 but
    not 合适); longer words match toneless, or with accent mergers (zh/z, ch/c, sh/s, -ng/-n)."""
    if len(toned) <= 2:
        return [toned]
    toneless = _toneless(toned)
    merged = tuple("~" + loose_syllable(s) for s in toneless)
    return [toneless, merged]


def _toneless(toned: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(s.rstrip("012345") for s in toned)


_MERGERS = {"zh": "z", "ch": "c", "sh": "s", "ng": "n"}
_MERGE = re.compile(r"^(zh|ch|sh)|ng$")


def loose_syllable(syllable: str) -> str:
    """A toneless syllable with the accent mergers applied: zh/ch/sh -> z/c/s, -ng -> -n."""
    return _MERGE.sub(lambda m: _MERGERS[m.group(0)], syllable)


def _syllables(text: str) -> tuple[str, ...]:
    """Pinyin with tone numbers, one syllable per character (neutral tone as 5)."""
    from pypinyin import Style, lazy_pinyin

    return tuple(lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True))


@lru_cache(maxsize=65536)
def _corrected(run: str, words: tuple[str, ...]) -> str:
    """``_correct_run`` remembered, and skipped for runs where no two neighbouring characters can
    sound like two neighbouring syllables of any lexicon word (most runs: a quick set lookup)."""
    starts = _start_positions(run, _sound_pairs(words))
    if not starts:
        return run
    return _correct_run(run, _pinyin_table(words), starts)


def _start_positions(run: str, pairs: frozenset[str]) -> frozenset[int]:
    """Where in ``run`` a lexicon word may begin: its first two characters can sound like two
    neighbouring syllables of some word (most positions of most runs cannot)."""
    return frozenset(i for i in range(len(run) - 1)
                     if any(a + "|" + b in pairs for a in _loose_readings(run[i])
                            for b in _loose_readings(run[i + 1])))


def _corrected_with_digits(run: str, words: tuple[str, ...]) -> str:
    """``_corrected`` on a run in which lone digits are read as their syllable (分7 -> 分七 -> 分期);
    a digit no lexicon word took is put back, and one followed by a counted word (7期, 7个) is a
    number and never read as a syllable."""
    if not any(ch.isdigit() for ch in run):
        return _corrected(run, words)
    read = "".join(
        _DIGIT_SYLLABLE[ch] if ch.isdigit() and run[i + 1: i + 2] not in _COUNTED else ch
        for i, ch in enumerate(run)
    )
    out = _corrected(read, words)  # a correction replaces a span by a word of the same length
    return "".join(orig if orig.isdigit() and new == read[i] else new
                   for i, (orig, new) in enumerate(zip(run, out, strict=True)))


@lru_cache(maxsize=8)
def _sound_pairs(words: tuple[str, ...]) -> frozenset[str]:
    """Every pair of neighbouring syllables in the lexicon words, toneless and accent-merged."""
    pairs = set()
    for word in words:
        for i in range(len(word) - 1):
            pairs.update(a + "|" + b for a in _loose_readings(word[i]) for b in _loose_readings(word[i + 1]))
    return frozenset(pairs)


@cache
def _loose_readings(char: str) -> frozenset[str]:
    """All readings of a character, toneless and accent-merged (a superset of what it can match)."""
    from pypinyin import Style, pinyin

    readings = pinyin(char, style=Style.NORMAL, heteronym=True)[0]
    return frozenset(loose_syllable(r) for r in readings)


def _correct_run(run: str, table: dict[int, dict[tuple[str, ...], str]], starts: frozenset[int]) -> str:
    """Left-to-right, longest-first replacement inside one run of Chinese characters; only positions
    in ``starts`` (``_start_positions``) are tried."""
    syllables = _syllables(run)
    if len(syllables) != len(run):  # pypinyin merged something; leave the run alone
        return run
    out, i = [], 0
    lengths = sorted(table, reverse=True)
    while i < len(run):
        if i not in starts:
            out.append(run[i])
            i += 1
            continue
        for n in lengths:
            if i + n > len(run):
                continue
            sides = _common_sides(run, i) if n == 2 else 0
            if sides == 2:
                continue  # 手[机活]动 is 手机 + 活动, not 激活, however exactly it sounds like it
            word = _match(table[n], tuple(syllables[i : i + n]), run[i : i + n], loose=n == 2 and sides == 0)
            if word is not None:
                out.append(word)
                i += n
                break
        else:
            out.append(run[i])
            i += 1
    return "".join(out)


def _common_sides(run: str, i: int) -> int:
    """On how many sides the two-character span at ``i`` cuts through a common word (确[认收]货:
    确认 and 收货, two). Such a span is two halves of words, not a misheard two-character term:
    cut on one side, only an exact sound-alike may replace it; cut on both (手[机活]动), nothing may,
    since replacing it (确认收货 -> 确人寿货, 送手机活动 -> 送手激活动) would break both words.
    """
    before = run[i - 1: i + 1] if i > 0 else ""
    after = run[i + 1: i + 3] if i + 3 <= len(run) else ""
    return int(_is_common_word(before)) + int(_is_common_word(after))


def _is_common_word(text: str) -> bool:
    """A word common enough to protect (确认); a rare one (下力 in 问一下力赔) is likelier a slip's
    neighbour than the word that was meant."""
    return bool(text) and _jieba_words().get(text, 0) >= STRADDLE_MIN_COUNT


def _match(words: dict[tuple[str, ...], str], toned: tuple[str, ...], span: str, *, loose: bool) -> str | None:
    """The lexicon word this span sounds like, if any.

    A two-character span that is not a word at all (分七, 保弹) may also match without tones when
    ``loose`` (it does not cut through neighbouring words); a real word (合适, 按键) must match with
    tones, so it is only replaced by an exact sound-alike.
    """
    keys = _keys(toned)
    if loose and len(toned) == 2 and not _is_word(span):
        keys.append(_toneless(toned))
    return next((words[k] for k in keys if k in words), None)


def _is_word(text: str) -> bool:
    """Is ``text`` in jieba's general dictionary (about 350,000 words)?"""
    return text in _jieba_words()


@lru_cache(maxsize=1)
def _jieba_words():
    import jieba

    jieba.setLogLevel(60)
    jieba.initialize()
    return jieba.dt.FREQ
