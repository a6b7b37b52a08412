"""Sales leads (服转销): whether the customer shows purchase intent, for what, and where.

A customer asking about a bigger data plan in a billing call is a lead; so is one who says 办吧 to
an outbound offer. Intent is none / low / medium / high from what the customer says after a product
comes up: accepting, wanting to think it over, only asking, or turning it down.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from callscope.types import Lead
from nlp.negation import SPEND_CUT_NEGATION, negated
from nlp.taxonomy import compile_cue
from nlp.text import CallText, TurnText, sound_cues, sound_key, tagged_words, words

DEFAULT_PATTERNS = Path(__file__).resolve().parent / "patterns" / "leads.yaml"
SIGNALS = ("accept", "consider", "interest", "refuse")
# how far back a customer's question may refer to a product named earlier (three exchanges): 那我能申请
# 十万吗 asks about the 现金分期 the agent named two exchanges before
RECENT_TURNS = 6
# a customer asking for a cheaper plan (换成便宜一点的, 太浪费了) is cutting spend: what the agent offers in
# the next few turns answers that request and is no sale
DOWNGRADE_TURNS = 4
# a call the rules find no lead in is a low one when a learnt head (``Scorer.lead_probability``) is this
# sure of a lead and the call names a product (leave-one-writer-out over eval/extra, benchmarks/writers.py:
# F1 0.915 -> 0.927; the experiment that chose 0.7 read 0.932 against 0.928 at 0.8 and 0.916 at 0.9)
HEARD_LEAD = 0.7
# a product named at most this many characters after a customer's request verb (我要办|个|账单分期) is asked for
REQUEST_GAP = 4
# a product name starts after the last of these in the matched run (您现在有意外险 -> 意外险,
# 可以直接升级五G套餐 -> 五G套餐)
_BOUNDARY = re.compile(r"[一二两三四五六七八九十几\d]+[个款张份种条项笔台件只]|这个|那个|什么|[了办订]个|没订|可以|不能|升级|直接|另外|最高|续保|考虑|推荐|介绍|了解|投保|建议您?[订办开买换]?|"
                       r"[的有是款下这那您你我他她了在把给就还都和办买要用开查做跟说想]")


@dataclass(frozen=True, slots=True)
class LeadPatterns:
    """Signal cues with their weights, and the product-name pattern."""

    cues: dict[str, tuple[re.Pattern[str], ...]]
    sounds: dict[str, tuple[str, ...]]          # plain cues of 3+ characters as loose pinyin
    weights: dict[str, float]
    product: re.Pattern[str]
    not_products: tuple[str, ...]
    not_before: tuple[str, ...] = ()
    pitch: tuple[str, ...] = ()
    goods: re.Pattern[str] | None = None     # a shop's goods: the name is the pattern's group 1
    not_goods: tuple[str, ...] = ()
    downgrade: tuple[re.Pattern[str], ...] = ()
    cancelling: tuple[re.Pattern[str], ...] = ()   # words of an agent's read back that ends something
    owned: re.Pattern[str] | None = None     # goods already bought: group 1 names them
    variant: tuple[re.Pattern[str], ...] = ()   # asks for another version of what was bought (有没有大一点的)
    busy: tuple[re.Pattern[str], ...] = ()   # 正开会呢, 在开车: a "later" said with these puts off the call, not the offer
    offered_downgrade: tuple[re.Pattern[str], ...] = ()   # an agent proposing to spend less (降级成金卡)


@lru_cache(maxsize=4)
def load_lead_patterns(path: str | None = None) -> LeadPatterns:
    """Read the lead cue file; a ValueError names the file and the entry at fault."""
    source = path or str(DEFAULT_PATTERNS)
    try:
        raw = yaml.safe_load(Path(source).read_text(encoding="utf-8"))
        cues, sounds, weights = {}, {}, {}
        for name in SIGNALS:
            entry = raw["signals"][name]
            weights[name] = float(entry["weight"])
            cues[name] = tuple(compile_cue(c) for c in entry["cues"])
            sounds[name] = tuple(key for _, key in sound_cues(entry["cues"]))
        product = compile_cue(raw["products"]["pattern"])
        not_products = tuple(raw["products"].get("not_products", []))
        not_before = tuple(raw["products"].get("not_before", []))
        pitch = tuple(raw.get("pitch", []))
        goods = compile_cue(raw["products"]["goods"]) if raw["products"].get("goods") else None
        not_goods = tuple(raw["products"].get("not_goods", []))
        downgrade = tuple(compile_cue(c) for c in raw.get("downgrade", []))
        cancelling = tuple(compile_cue(c) for c in raw.get("cancelling", []))
        busy = tuple(compile_cue(c) for c in raw.get("busy", []))
        offered_downgrade = tuple(compile_cue(c) for c in raw.get("offered_downgrade", []))
        owned = compile_cue(raw["products"]["owned"]) if raw["products"].get("owned") else None
        variant = tuple(compile_cue(c) for c in raw["products"].get("variant", []))
    except (OSError, KeyError, TypeError, ValueError, re.error, yaml.YAMLError) as exc:
        raise ValueError(f"{source}: bad lead pattern file ({type(exc).__name__}: {exc})") from None
    return LeadPatterns(cues, sounds, weights, product, not_products, not_before, pitch, goods, not_goods,
                        downgrade, cancelling, owned, variant, busy, offered_downgrade)


def signal_counts(text: str, patterns: LeadPatterns) -> dict[str, int]:
    """How many cues of each signal occur in a customer's words (as written, or failing that as
    heard: a misheard 考虑一夏 still sounds like 考虑一下)."""
    sounds = sound_key(text)
    counts = {}
    for name in SIGNALS:
        hits = [list(cue.finditer(text)) for cue in patterns.cues[name]]
        kept = [[m for m in found if name != "accept" or not _not_now(text, m.start())] for found in hits]
        counts[name] = _separate(kept) if any(hits) else sum(1 for key in patterns.sounds[name] if key in sounds)
    if counts["consider"] and not (counts["interest"] or counts["accept"]) and any(b.search(text) for b in patterns.busy):
        counts["consider"] = 0   # 我正开会呢，回头再说吧: no engagement with the offer at all
    return counts


def _separate(hits: list[list[re.Match[str]]]) -> int:
    """How many cues were said, one per cue that matched, but cues whose first matches overlap (再说吧
    and 再说 on the same words) count once: one thing said is one signal."""
    spans = sorted((found[0].start(), found[0].end()) for found in hits if found)
    count, end = 0, -1
    for start, stop in spans:
        if start >= end:
            count += 1
        end = max(end, stop)
    return count


_OTHER_WAY = re.compile(r"还是[^，,。？?！!]{1,3}$")


def _not_now(text: str, start: int) -> bool:
    """Is the yes at ``start`` a choice of another way (不用了，还是单买吧), not of the offer (还是办吧), or
    a yes for later (到时候落地了再买吧: a purchase put off, which the consider cues count)?"""
    return bool(_OTHER_WAY.search(text, 0, start)) or text[start - 1: start] == "再"


def customer_signals(call: CallText, patterns: LeadPatterns) -> dict[int, dict[str, int]]:
    """``signal_counts`` of every customer turn, by turn index; in a sales call, a plain yes (对对) to the
    agent reading the order back (跟您确认一下……对吗) accepts it, while a yes to a cancellation read back
    (关掉月卡自动续费，确认吗) accepts nothing in any call."""
    signals = {t.index: signal_counts(t.text, patterns) for t in call.turns if t.role == "customer"}
    outbound = call.meta.get("direction") == "outbound"
    for agent, answer in zip(call.turns, call.turns[1:]):
        if agent.role != "agent" or answer.role != "customer":
            continue
        said = signals[answer.index]
        if _reads_back_cancellation(agent.text, patterns):
            said["accept"] = 0   # 确认 to 注销尾号……的信用卡，确认吗 buys nothing
        elif (outbound and _reads_back_order(agent.text, patterns) and _YES.match(answer.text)
                and not said["refuse"]):
            said["accept"] = max(said["accept"], 1)
        elif outbound and not said["interest"] and _asks_about_offer(agent, answer, patterns):
            said["interest"] = 1   # 你们这个会员开了能退吗？ : a question about what was just offered
    return signals


def _asks_about_offer(agent: TurnText, answer: TurnText, patterns: LeadPatterns) -> bool:
    """In a sales call, is the answer a question of its own about the offer just made: a question
    (not an echo like 保险？ nor a challenge like 凭什么……？) that takes up a word of the offer?"""
    if not products_in(agent.text, patterns, agent.words):
        return False
    offered = {w for w in agent.words if len(w) >= 2 and w not in _COMMON_WORDS}
    for question in _QUESTION.findall(answer.text):
        if len(question) >= 6 and not _CHALLENGE.search(question) and any(w in question for w in offered):
            return True
    return False


_QUESTION = re.compile(r"[^，,。？?！!]*(?:[？?]|[吗呢](?=[，,。！!]|$))")   # one clause that asks
_CHALLENGE = re.compile(r"什么|怎么了|凭什么|谁|哪|干嘛|为啥|为什么")
# words an answer shares with any agent turn: no sign that it takes up the offer
_COMMON_WORDS = frozenset({
    "我们", "你们", "您们", "咱们", "这个", "那个", "什么", "可以", "就是", "现在", "一下", "知道", "电话", "时间", "不是", "没有", "还是",
    "已经", "谢谢", "不用", "需要", "问题", "这样", "那样", "怎么", "为什么", "是不是", "有没有", "多少", "的话", "一个", "自己", "其他", "您好"
})
_YES = re.compile(r"^(嗯[，,。]?)?(对|是的|是|好的?|行|可以|没问题|确认|嗯嗯)")
# what an order read back says when it names no product of the list (参加五十八元合约送手机活动)
_ORDERED = re.compile(r"参加|开通|订购|办理|升级|调整为|变更为|活动|合约")
_CONFIRM = re.compile(r"(跟您|给您|帮您)?确认(一下)?[^。]*?(对吗|是吗|可以吗|好吗|没问题吧|吗)[？?]?\s*$")
_SENTENCE_KINDS = "dpcrufyo"   # jieba flag initials never inside a product's name: adverbs, prepositions...
_REQUEST = re.compile(r"(?:我|我们)?(?:要|想|得)(?:办|开通|开|订|申请|买|加|升级到?)(?:一?个|一下|一份|一张)?|(?:给|帮)我(?:办|开通|开|订|申请|加)(?:一?个|一下|一份|一张)?")
_ORDER_NAME = re.compile(r"(?:参加|开通|订购|办理|升级)了?([^，,。？?！!：:；;]{2,14}?)(?:活动)?(?=[，,。？?！!：:；;]|$)")


def _requests(text: str, names: list[str]) -> bool:
    """Does the customer ask for a product by name (我要办账单分期, 帮我开通个流量包)?"""
    return any(name in text[m.end(): m.end() + REQUEST_GAP + len(name)]
               for m in _REQUEST.finditer(text) for name in names)


def _reads_back_cancellation(text: str, patterns: LeadPatterns) -> bool:
    """Does the agent read back a cancellation for a yes (跟您确认一下，注销尾号三三九一的信用卡，确认吗)?"""
    return bool(_CONFIRM.search(text)) and _ends_something(text, patterns)


def _ends_something(text: str, patterns: LeadPatterns) -> bool:
    """Does an agent's turn end a service or grant a remedy (注销, 关掉, 补发, 减免: ``cancelling``)?"""
    return any(cue.search(text) for cue in patterns.cancelling)


def _ordered_names(text: str) -> list[str]:
    """What an order read back names after its verb (参加五十八元合约送手机活动 -> 五十八元合约送手机)."""
    return [m.group(1) for m in _ORDER_NAME.finditer(text)][:1]


def _reads_back_order(text: str, patterns: LeadPatterns) -> bool:
    """Does the agent read an order back for a yes (跟您确认一下：……五十八元合约……对吗？)?"""
    return bool(_CONFIRM.search(text)) and bool(products_in(text, patterns) or _ORDERED.search(text))


def products_in(text: str, patterns: LeadPatterns, segmented: list[str] | None = None) -> list[str]:
    """Product phrases named in a text (流量月包, 白金卡, 百万医疗险...); ``segmented`` is the text's
    jieba words when the caller has them (a turn's ``words``), else the text is segmented here."""
    found = []
    starts: set[int] | None = None
    for match in patterns.product.finditer(text):
        phrase = _BOUNDARY.split(match.group(0))[-1]
        if not phrase and match.re.groups:   # the keyword ends in a boundary character: 存款, not 存 + 款
            phrase = _BOUNDARY.split(match.group(0)[:match.start(1) - match.start()])[-1] + match.group(1)
        if phrase and match.re.groups:
            starts = starts if starts is not None else _word_starts(segmented or words(text))
            if match.start(1) not in starts and match.end(1) not in starts | {len(text)}:
                continue  # the keyword straddles two words: 定期 in 特定|期数
            phrase = _from_word_start(phrase, match.end() - len(phrase), match.start(1), starts, text)
        if phrase and match.re.groups and len(phrase) > len(match.group(1)):
            phrase = _modifiers_only(phrase, len(match.group(1)))
        after = text[match.end(): match.end() + 3]
        if after.startswith(patterns.not_before):
            continue
        window = text[max(0, match.start() - 4): match.end() + 2]
        if phrase and not any(n in window for n in patterns.not_products):
            found.append(phrase)
    return found or _goods_in(text, patterns)


def _goods_in(text: str, patterns: LeadPatterns) -> list[str]:
    """Goods asked about, wanted or offered (咨询个显示器 -> 显示器; 一款可视空气炸锅 -> 空气炸锅), cut at the
    first boundary word; the pattern's first group that took part names them."""
    if patterns.goods is None:
        return []
    found = []
    for match in patterns.goods.finditer(text):
        said = next(g for g in match.groups() if g)
        name = _BOUNDARY.split(said.rsplit("的", 1)[-1].rstrip("吗呢吧啊"))[0]   # 冬天的棉鞋 -> 棉鞋
        if len(name) >= 2 and not name.startswith(patterns.not_goods):
            found.append(name)
    return found


def _modifiers_only(phrase: str, keyword: int) -> str:
    """The phrase without the sentence around the name before its keyword (the last ``keyword``
    characters): cut after any adverb, preposition, conjunction, pronoun or particle (先不看宽带 ->
    看宽带, 而且融合套餐 -> 融合套餐), then drop leading verbs (看宽带 -> 宽带, 换成五G套餐 -> 五G套餐);
    a verb inside a name stays (银龄守护老年意外险), and so does the word the keyword begins in (旅行险)."""
    start, at, keep_from = len(phrase) - keyword, 0, 0
    tagged = []
    for word, flag in tagged_words(phrase):
        if at + len(word) > start:
            break
        if flag[0] in _SENTENCE_KINDS or flag in ("e", "nt"):   # e: interjection (eng is English)
            keep_from, tagged = at + len(word), []
        else:
            tagged.append((word, flag))
        at += len(word)
    for word, flag in tagged:
        if flag != "v":
            break
        keep_from += len(word)
    return phrase[keep_from:]


def _word_starts(segmented: list[str]) -> set[int]:
    """Character offsets where each word of a segmented text begins."""
    starts, at = set(), 0
    for word in segmented:
        starts.add(at)
        at += len(word)
    return starts


def _from_word_start(phrase: str, begin: int, keyword: int, starts: set[int], text: str) -> str:
    """The phrase cut to begin on a whole word: 边千兆宽带 (from 那边) -> 千兆宽带, but never past the
    product keyword itself; a cut inside the keyword's own word goes back to its start (信用卡, not
    卡, though 用 is a boundary character)."""
    if begin in starts:
        return phrase
    end = begin + len(phrase)
    if begin > keyword:
        return text[max(s for s in starts | {keyword} if keyword <= s <= begin): end]
    later = [s for s in starts if begin < s <= keyword]
    return text[min(later): end] if later else phrase


def offer_turns(call: CallText, patterns: LeadPatterns, signals: dict[int, dict[str, int]] | None = None,
                cutting: set[int] | None = None) -> list[tuple[int, list[str]]]:
    """Turns where a product is on the table: an agent offering it, or a customer asking about it.

    In an outbound call every agent turn that names a product is the offer; inbound, the agent must
    also pitch it (推荐, 有一款, 活动...) or name it in answer to a customer's question that named nothing
    (存个三年利息多少？ -> 三年期定期……), or the customer must ask about it (naming it, or asking
    about the product named last in the ``RECENT_TURNS`` before) or name it and put it off (附属卡……
    回头再说吧; not in a turn that also says yes, whose yes is to something else). Nothing is on the table in the
    ``DOWNGRADE_TURNS`` after a customer asks to spend less (换成便宜一点的套餐).
    ``signals`` are the customer turns' ``signal_counts`` by turn index and ``cutting`` the turns of
    ``cutting_spend``, when already worked out.
    """
    signals = signals if signals is not None else customer_signals(call, patterns)
    outbound = call.meta.get("direction") == "outbound"
    offers = []
    cutting = cutting if cutting is not None else cutting_spend(call, patterns)
    unnamed_ask: int | None = None   # a customer turn asking about something it does not name (存三年利息多少？)
    for turn in call.turns:
        if turn.index in cutting:
            continue
        names = products_in(turn.text, patterns, turn.words)
        if turn.role == "agent":
            if not names and outbound and _reads_back_order(turn.text, patterns):
                names = _ordered_names(turn.text)
            answers = unnamed_ask is not None and turn.index == unnamed_ask + 1   # it names what was asked: 三年期定期……
            # inbound, a turn that ends or refunds what it names (会员的自动续费我帮您关掉) offers nothing
            ends = not outbound and _ends_something(turn.text, patterns)
            if names and not ends and (outbound or answers or any(cue in turn.text for cue in patterns.pitch)):
                offers.append((turn.index, names))
            continue
        if not signals[turn.index]["interest"]:
            said = signals[turn.index]
            put_off = said["consider"] and not said["accept"]          # 附属卡……回头再说吧: named and put off
            requested = not said["refuse"] and _requests(turn.text, names)   # 我要办账单分期: asked for by name
            if names and (put_off or requested):
                offers.append((turn.index, names))
            continue
        names = names or _recently_named(call, turn.index, patterns) or _variant_of_owned(call, turn.index, patterns)
        if names:
            offers.append((turn.index, names))
        else:
            unnamed_ask = turn.index
    return offers


def cutting_spend(call: CallText, patterns: LeadPatterns) -> set[int]:
    """Indexes of the turns from a customer's request to spend less (换成便宜一点的, 那就降成金卡) to
    ``DOWNGRADE_TURNS`` after it, or on to the customer's first yes when the agent asks a few questions
    and reads the change back first (确认，办吧): what is offered there, and a yes to it, is no sale."""
    cutting: set[int] = set()
    for turn in call.turns:
        cues = patterns.downgrade if turn.role == "customer" else patterns.offered_downgrade
        if any(_unnegated(cue, turn.text) for cue in cues):
            later = call.turns[turn.index + 1: turn.index + 2 * DOWNGRADE_TURNS + 1]
            yes = next((t.index for t in later if t.role == "customer"
                        and signal_counts(t.text, patterns)["accept"]), turn.index)
            cutting.update(range(turn.index, max(yes, turn.index + DOWNGRADE_TURNS) + 1))
    return cutting


def _unnegated(cue: re.Pattern[str], text: str) -> bool:
    """Does the cue occur without a negation just before it (不能降档没事 asks for no downgrade)?"""
    return any(not negated(text, m.start(), SPEND_CUT_NEGATION) for m in cue.finditer(text))


def _variant_of_owned(call: CallText, index: int, patterns: LeadPatterns) -> list[str]:
    """What a customer asking for another version (有没有大一点的？) bought, as they said it in the
    ``RECENT_TURNS`` before (收到一个电饭煲): the larger one is a sale, the one they have is not."""
    said = call.turns[index].text
    if patterns.owned is None or not any(cue.search(said) for cue in patterns.variant):
        return []
    for earlier in reversed(call.turns[max(0, index - RECENT_TURNS): index]):
        if earlier.role == "customer":
            names = [_BOUNDARY.split(m.group(1))[0] for m in patterns.owned.finditer(earlier.text)]
            names = [n for n in names if len(n) >= 2 and not n.startswith(patterns.not_goods)]
            if names:
                return names
    return []


def _recently_named(call: CallText, index: int, patterns: LeadPatterns) -> list[str]:
    """The products named last in the few turns before ``index``: what a customer's question
    (那我能申请十万吗, 利息多少) is about when it does not name it again."""
    for earlier in reversed(call.turns[max(0, index - RECENT_TURNS): index]):
        names = products_in(earlier.text, patterns, earlier.words)
        if names:
            return names
    return []


def find_lead(call: CallText, *, patterns: str | Path | None = None,
              heard: Callable[[CallText], float | None] | None = None) -> Lead:
    """The call's lead: intent from the customer's signals once a product is offered or asked about;
    ``heard`` gives a learnt head's probability that the call holds a lead (``HEARD_LEAD``), asked
    only where the rules find none."""
    pats = load_lead_patterns(str(patterns) if patterns else None)
    signals = customer_signals(call, pats)
    cutting = cutting_spend(call, pats)
    offers = offer_turns(call, pats, signals, cutting)
    if not offers:
        return _heard_lead(call, pats, heard)
    product = _product_of(call, offers)
    first = offers[0][0]
    totals = Counter[str]()
    last: dict[str, tuple[int, int]] = {}
    turns = []
    asked = False   # a question about it in a turn of its own (多少钱一年？), not in a refusal
    for turn in call.turns[first:]:
        if turn.role != "customer":
            continue
        found = signals[turn.index]
        if turn.index in cutting:  # a yes to spending less, or its price asked, is no sale; second thoughts still count
            found = {**found, "accept": 0, "interest": 0}
        if found["accept"] or found["consider"] or found["interest"]:
            turns.append(turn.index)
        asked = asked or bool(found["interest"] and not found["refuse"])
        totals.update(found)
        last.update({name: (turn.index, _last_said(turn.text, pats.cues[name])) for name in SIGNALS if found[name]})
    score = sum(pats.weights[n] * min(totals[n], 2) for n in SIGNALS)
    intent = _intent(totals, score, last.get("consider", (-1, -1)) > last.get("refuse", (-1, -1)), asked)
    if intent == "none":
        return _heard_lead(call, pats, heard)
    return Lead(intent, product, _probability(score), turns)


def _heard_lead(call: CallText, patterns: LeadPatterns, heard: Callable[[CallText], float | None] | None) -> Lead:
    """A low lead where the rules found none but the learnt head is sure of one (``HEARD_LEAD``), for
    the product the call names most; no lead when it names none."""
    probability = heard(call) if heard is not None else None
    if probability is None or probability < HEARD_LEAD:
        return Lead()
    named = [(t.index, products_in(t.text, patterns, t.words)) for t in call.turns]
    named = [(index, names) for index, names in named if names]
    if not named:
        return Lead()
    return Lead("low", _product_of(call, named), probability,
                [i for i, _ in named if call.turns[i].role == "customer"])


def _product_of(call: CallText, offers: list[tuple[int, list[str]]]) -> str:
    """The product the lead is about: the name said most (an agent's naming counts twice), a
    general name (套餐) counting for the specific one that holds it (五G流量套餐), and never the
    centre's own name from its greeting (您好，恒宇保险): no customer buys the company."""
    own = call.centre_names()
    counts: Counter[str] = Counter()
    for index, names in offers:
        counts.update({name: 2 if call.turns[index].role == "agent" else 1 for name in names if name not in own})
    if not counts:   # only the company was named (我们恒宇保险……): better that than no product on a lead
        counts.update(name for _, names in offers for name in names)
    merged = Counter({name: sum(n for other, n in counts.items() if other in name) for name in counts})
    return merged.most_common(1)[0][0]


def _last_said(text: str, cues: tuple[re.Pattern[str], ...]) -> int:
    """Where in the text the last of the cues ends (-1 if none is written there)."""
    return max((m.end() for cue in cues for m in cue.finditer(text)), default=-1)


def _intent(totals: Counter[str], score: float, deferred_last: bool = False, asked: bool = False) -> str:
    """Four levels from the signal totals; ``deferred_last``: the customer's last word on it puts it
    off (不需要……到时候再说吧) rather than turning it down; ``asked``: the customer asked about it in a
    turn of its own, so even firm refusals after it leave a low lead (多少钱一年？……算了，不用了)."""
    if totals["accept"]:
        # an explicit yes outweighed by second thoughts (行，那升吧 ... 算了) is still a lead, not none
        return "high" if score >= 2.0 else "medium" if score > 0 else "low"
    if totals["consider"] and score > 0:
        return "medium"
    if totals["consider"] and deferred_last:
        return "low"   # a vague deferral after a no
    if totals["interest"] and (score > -2.0 or asked):
        return "low" if totals["refuse"] else "medium"
    return "none"


def _probability(score: float) -> float:
    """Signal score squashed into [0, 1]."""
    import math

    return 1.0 / (1.0 + math.exp(-(score - 1.0)))
