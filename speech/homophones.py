"""General homophone correction of Whisper's Chinese output, driven by word and character statistics.

Whisper base often writes a sound-alike that is no word at all: 依下 for 一下, 吃卡人 for 持卡人,
合对 for 核对. The lexicon (``speech.lexicon``) fixes such slips for its own domain terms only; this
module fixes them for the everyday vocabulary of any call:

1. Index: every word of jieba's dictionary of 2-4 Chinese characters, keyed by its toned pinyin,
   keeps the most frequent word with that sound. Person and place names are left out (a heard 流
   must not turn into the surname 刘), and so are very rare words. Words of 3-4 characters are
   also listed by their toneless pinyin: tones are what Whisper blurs most (吃卡人 chi1 for 持卡人
   chi2), and three or four syllables still pin a word down without them.
2. Per run of Chinese characters, a dynamic programme over segmentations scores jieba's word
   unigram log-probabilities. A 2-4 character span may instead be read as an index word that
   sounds the same, at a cost of ``change_cost`` per changed character, plus ``tone_cost`` per
   syllable whose tone differs (3-4 characters only; 2-character spans must match with tones),
   plus ``word_cost`` when the span is itself a word. So a non-word gives way easily, while a
   real word only gives way to a far more frequent one (加油战 -> 加油站, but 合适 stays though
   核实 is more frequent).
3. Each change is then checked against a character bigram model (the transition table of the
   MIT-licensed ``Pinyin2Hanzi`` input-method package): the changed characters and their two
   neighbours must gain at least ``bigram_margin`` in log-probability, or the change is dropped.

Digits, Latin letters and lexicon terms are never touched. On the 60 shared calls (Whisper base,
``benchmarks/homophones.py``) it lowers CER from 12.04 % to 11.24 % for the agent side and from
14.17 % to 13.67 % for the customer side (tone-blind matching alone: 11.30 / 13.70 %; neither
extension changes the 15 real read-speech samples, 19.42 -> 18.18 %).

The index, word counts and bigrams are built once (about 10 s) into a cache file next to the
Whisper model cache and loaded from there afterwards in a fraction of a second; ``make setup``
builds it ahead of time with ``python -m speech.homophones``.
"""

from __future__ import annotations

import importlib.metadata
import json
import math
import os
import pickle
import re
import tempfile
import time
from dataclasses import asdict, dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path

from filelock import FileLock

from speech.model import default_cache_dir

CACHE_VERSION = 2  # bump when what goes into the cache, or how, changes
MIN_WORD_COUNT = 3  # jieba count a replacement word needs
NAME_TAGS = frozenset({"nr", "nrt", "nrfg", "ns"})  # person and place names: never a replacement
MAX_WORD = 4
_HAN = re.compile(r"[\u4e00-\u9fff]+")
_FLOOR = math.log(1e-7)  # bigram log-probability of a pair the table knows nothing about


@dataclass(frozen=True, slots=True)
class HomophoneSettings:
    """The corrector's knobs (natural-log units); tuned on the 60 shared calls."""

    change_cost: float = 1.5  # word-score cost of each character changed
    bigram_margin: float = 1.0  # character-bigram gain a change needs around itself
    tone_cost: float = 2.0  # extra cost per syllable whose tone differs (3-4 character words only)
    word_cost: float = 2.0  # extra cost of replacing a span that is itself a (rarer) word

    def to_dict(self) -> dict[str, float]:
        """Plain dict for a transcript's provenance block."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class LanguageTables:
    """What the corrector knows about Chinese: word counts, sound index, character bigrams."""

    counts: dict[str, int]  # jieba words of 1-4 Chinese characters -> count
    total: int  # sum of all jieba counts (the unigram denominator)
    index: dict[str, str]  # "he2 dui4" -> the most frequent eligible word with that sound
    toneless: dict[str, tuple[str, ...]]  # "chi ka ren" -> the index keys of 3-4 syllables it covers
    bigrams: dict[str, dict[str, float]]  # previous char -> next char -> log P(next | previous)
    fallback: dict[str, float]  # previous char -> log P of a next char not in its table


class HomophoneCorrector:
    """Replaces non-word spans by same-sounding words where the language statistics agree."""

    def __init__(self, tables: LanguageTables, protected: tuple[str, ...] = (),
                 settings: HomophoneSettings | None = None):
        self.tables = tables
        self.settings = settings or HomophoneSettings()
        self.protected = frozenset(w for w in protected if len(w) >= 2 and _HAN.fullmatch(w))
        self._protected_lengths = sorted({len(w) for w in self.protected}, reverse=True)
        self._log_total = math.log(tables.total)
        self._runs: dict[str, str] = {}

    def correct(self, text: str) -> str:
        """``text`` with its sound-alike non-words replaced; everything but Chinese runs kept."""
        return _HAN.sub(lambda m: self._run(m.group(0)), text)

    def _run(self, run: str) -> str:
        """One run of Chinese characters, corrected (remembered: calls repeat their phrases)."""
        if len(run) < 2:
            return run
        done = self._runs.get(run)
        if done is None:
            done = self._correct_run(run)
            if len(self._runs) > 100_000:
                self._runs.clear()
            self._runs[run] = done
        return done

    def _correct_run(self, run: str) -> str:
        from pypinyin import Style, lazy_pinyin

        syllables = lazy_pinyin(run, style=Style.TONE3, neutral_tone_with_five=True)
        if len(syllables) != len(run):  # pypinyin merged or split something: leave the run alone
            return run
        locked = self._locked(run)
        proposed = self._best_reading(run, syllables, locked)
        return run if proposed == run else self._checked(run, proposed)

    def _locked(self, run: str) -> list[bool]:
        """Characters inside a lexicon term or alias: the customer's own words are never changed."""
        locked = [False] * len(run)
        for i in range(len(run)):
            for n in self._protected_lengths:
                if run[i : i + n] in self.protected:
                    locked[i : i + n] = [True] * n
                    break
        return locked

    def _best_reading(self, run: str, syllables: list[str], locked: list[bool]) -> str:
        """Best-scoring segmentation where spans may become a sound-alike word (non-words cheaply)."""
        counts, cost = self.tables.counts, self.settings.change_cost
        unknown = -self._log_total  # a single character jieba does not know: count 1
        best: list[tuple[float, str] | None] = [None] * (len(run) + 1)
        best[0] = (0.0, "")
        for end in range(1, len(run) + 1):
            options = []
            for start in range(max(0, end - MAX_WORD), end):
                before = best[start]
                if before is None:
                    continue
                span = run[start:end]
                count = counts.get(span, 0)
                if count:
                    options.append((before[0] + math.log(count) - self._log_total, before[1] + span))
                elif end - start == 1:
                    options.append((before[0] + unknown, before[1] + span))
                if end - start == 1 or any(locked[start:end]):
                    continue
                replaces_word = self.settings.word_cost if count else 0.0
                for word, extra in self._sound_alikes(syllables[start:end]):
                    if word != span:
                        changed = sum(a != b for a, b in zip(span, word))
                        score = math.log(counts[word]) - self._log_total - cost * changed - extra - replaces_word
                        options.append((before[0] + score, before[1] + word))
            best[end] = max(options) if options else None
        final = best[len(run)]
        return final[1] if final is not None else run

    def _sound_alikes(self, sound: list[str]) -> list[tuple[str, float]]:
        """(word, extra cost) that may be read for these syllables: the same-toned word and, for
        3-4 syllables, words whose tones differ (Whisper blurs tones most: 吃卡人 chi1 -> 持卡人
        chi2) at ``tone_cost`` per differing syllable."""
        index = self.tables.index
        if len(sound) < 3:
            word = index.get(" ".join(sound))
            return [] if word is None else [(word, 0.0)]
        found = []
        for key in self.tables.toneless.get(_toneless(sound), ()):
            differ = sum(a != b for a, b in zip(sound, key.split(" ")))
            found.append((index[key], self.settings.tone_cost * differ))
        return found

    def _checked(self, run: str, proposed: str) -> str:
        """Keep each block of changed characters only if the character bigrams around it prefer it."""
        out = list(run)
        i = 0
        while i < len(run):
            if proposed[i] == run[i]:
                i += 1
                continue
            j = i
            while j < len(run) and proposed[j] != run[j]:
                j += 1
            a, b = max(0, i - 1), min(len(run), j + 1)
            if self._bigram_score(proposed, a, b) - self._bigram_score(run, a, b) >= self.settings.bigram_margin:
                out[i:j] = proposed[i:j]
            i = j
        return "".join(out)

    def _bigram_score(self, text: str, a: int, b: int) -> float:
        bigrams, fallback = self.tables.bigrams, self.tables.fallback
        total = 0.0
        for k in range(a, b - 1):
            table = bigrams.get(text[k])
            total += _FLOOR if table is None else table.get(text[k + 1], fallback[text[k]])
        return total


def load_corrector(protected: tuple[str, ...] = (), settings: HomophoneSettings | None = None,
                   cache_dir: Path | None = None) -> HomophoneCorrector:
    """A corrector that never changes the ``protected`` words (pass the lexicon's words)."""
    return HomophoneCorrector(load_tables(cache_dir), protected, settings)


def describe() -> dict[str, object]:
    """What the corrector's statistics come from: a transcript's provenance and the cache file's header
    (a change of any of them rebuilds the cache)."""
    return {"version": CACHE_VERSION, **_sources()}


@lru_cache(maxsize=4)
def load_tables(cache_dir: Path | None = None) -> LanguageTables:
    """The tables from the cache file, built there first if it is missing, stale or corrupt."""
    folder = cache_dir or default_cache_dir()
    path = cache_path(folder)
    tables = _read_cache(path)
    if tables is not None:
        return tables
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder / "homophones.lock")):
        tables = _read_cache(path)  # another process may have built it meanwhile
        if tables is None:
            tables = build_tables()
            _write_cache(path, tables)
    return tables


def cache_path(folder: Path | None = None) -> Path:
    """Where the tables are cached (``folder`` defaults to the Whisper model cache)."""
    return (folder or default_cache_dir()) / f"homophones-v{CACHE_VERSION}.pkl"


@cache
def _sources() -> dict[str, str]:
    """Versions of the packages the tables are built from; a change rebuilds the cache."""
    return {name: importlib.metadata.version(name) for name in ("jieba", "pypinyin", "Pinyin2Hanzi")}


def _read_cache(path: Path) -> LanguageTables | None:
    """The cached tables, or None when the file is missing, unreadable or from other sources."""
    try:
        with open(path, "rb") as f:
            stored = pickle.load(f)
        if stored["header"] != describe():
            return None
        return LanguageTables(**stored["tables"])
    except Exception:  # noqa: BLE001 - any damage to the cache just means: build it again
        return None


def _write_cache(path: Path, tables: LanguageTables) -> None:
    """Write to a temporary file in the same folder, then rename: readers never see half a file.
    Caches of other versions are removed (13 MB each, never read again)."""
    fd, tmp = tempfile.mkstemp(prefix=".homophones-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump({"header": describe(), "tables": asdict(tables)},
                        f, protocol=pickle.HIGHEST_PROTOCOL)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    for old in path.parent.glob("homophones-v*.pkl"):
        if old.name != path.name:
            old.unlink(missing_ok=True)


def build_tables() -> LanguageTables:
    """Read jieba's dictionary and Pinyin2Hanzi's bigrams into ``LanguageTables`` (about 10 s)."""
    import jieba
    from pypinyin import Style, lazy_pinyin

    counts: dict[str, int] = {}
    total = 0
    best: dict[str, tuple[int, str]] = {}
    dictionary = Path(jieba.__file__).resolve().parent / "dict.txt"
    for line in dictionary.read_text(encoding="utf-8").splitlines():
        cols = line.split(" ")
        if len(cols) < 2:
            continue
        word, count = cols[0], int(cols[1])
        total += count
        if len(word) > MAX_WORD or not _HAN.fullmatch(word):
            continue
        counts[word] = count  # a repeated word: the last line wins, as in jieba
        tag = cols[2] if len(cols) > 2 else ""
        if len(word) < 2 or count < MIN_WORD_COUNT or tag in NAME_TAGS:
            continue
        sound = lazy_pinyin(word, style=Style.TONE3, neutral_tone_with_five=True)
        if len(sound) != len(word):
            continue
        key = " ".join(sound)
        if (count, word) > best.get(key, (0, "")):
            best[key] = (count, word)
    toneless: dict[str, list[str]] = {}
    for key in best:
        if key.count(" ") >= 2:
            toneless.setdefault(_toneless(key.split(" ")), []).append(key)
    bigrams, fallback = _bigrams()
    return LanguageTables(counts, total, {k: w for k, (_, w) in best.items()},
                          {k: tuple(keys) for k, keys in toneless.items()}, bigrams, fallback)


def _toneless(sound: list[str]) -> str:
    """The syllables without their tone digits, as an index key: "chi1 ka3 ren2" -> "chi ka ren"."""
    return " ".join(s.rstrip("012345") for s in sound)


def _bigrams() -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Pinyin2Hanzi's character transition probabilities as log-probabilities.

    Only the data file is read (through ``importlib.resources``); the package's own code is
    Python 2 era and is not used.
    """
    data = resources.files("Pinyin2Hanzi") / "data" / "hmm_transition.json"
    raw = json.loads(data.read_text(encoding="utf-8"))["data"]
    bigrams: dict[str, dict[str, float]] = {}
    fallback: dict[str, float] = {}
    for prev, nexts in raw.items():
        fallback[prev] = math.log(nexts.get("default") or 1e-7)
        bigrams[prev] = {c: math.log(p) for c, p in nexts.items() if c != "default" and p > 0}
    return bigrams, fallback


def main() -> None:
    """Build the cache file if it is missing or stale (``make setup`` runs this), and say where it is."""
    started = time.perf_counter()
    tables = load_tables()
    print(f"homophone tables ready in {time.perf_counter() - started:.1f} s: {cache_path()} "
          f"({len(tables.index)} sounds, {len(tables.toneless)} toneless)")


if __name__ == "__main__":
    main()
