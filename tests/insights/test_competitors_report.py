"""Competitor report on constructed calls with known mentions, figures and ranking."""

from __future__ import annotations

import pytest

from models.insights.competitors import (
    OfferFiguresError,
    build_competitor_report,
    figures_in,
    load_offer_figures,
    quoted_offers,
)
from tests.insights.factory import make_call, records


def mention(turn: int, brand: str, dimension: str, score: float = 0.9, said: str | None = None) -> dict:
    return {"turn": turn, "brand": brand, "mention": said or brand.removeprefix("中国"), "dimension": dimension,
            "score": score}


TURNS = [("agent", "您好，请问有什么可以帮您？", 0.0, 2.0), ("customer", "联通那边便宜。", 2.0, 4.0),
         ("agent", "我们也有优惠。", 4.0, 6.0), ("customer", "联通确实便宜。", 6.0, 8.0)]


def counted_calls():
    return records(
        make_call("c1", day="2026-10-20", turns=TURNS, competitors=[
            mention(1, "中国联通", "price"), mention(3, "中国联通", "price"), mention(1, "中国电信", "network")]),
        make_call("c2", day="2026-10-20", turns=TURNS, competitors=[mention(1, "中国联通", "price")]),
        make_call("c3", day="2026-10-21", turns=TURNS, competitors=[
            mention(1, "中国联通", "service"), mention(3, "中国联通", "price")]),
        make_call("c4", day="2026-10-21", turns=TURNS),
    )


def test_mentions_by_brand_dimension_day_are_counted_exactly():
    report = build_competitor_report(counted_calls())
    by_day = [(r["brand"], r["dimension"], r["day"].isoformat(), r["mentions"], r["calls"])
              for r in report.table("by_day").rows]
    assert by_day == [
        ("中国联通", "price", "2026-10-20", 3, 2),
        ("中国电信", "network", "2026-10-20", 1, 1),
        ("中国联通", "price", "2026-10-21", 1, 1),
        ("中国联通", "service", "2026-10-21", 1, 1),
    ]
    totals = [(r["brand"], r["dimension"], r["mentions"], r["calls"]) for r in report.table("totals").rows]
    assert totals == [("中国联通", "price", 4, 3), ("中国联通", "service", 1, 1), ("中国电信", "network", 1, 1)]
    brands = {r["brand"]: r for r in report.table("brands").rows}
    assert (brands["中国联通"]["mentions"], brands["中国联通"]["calls"], brands["中国联通"]["share_of_calls"]) == (5, 3, 0.75)
    assert report.summary["mentions"] == 6 and report.summary["calls_with_mentions"] == 3


def test_charts_carry_the_counts():
    report = build_competitor_report(counted_calls())
    stacked, daily = report.charts
    assert stacked.option["yAxis"]["data"] == ["中国联通", "中国电信"]
    series = {s["name"]: s["data"] for s in stacked.option["series"]}
    assert series == {"价格": [4, 0], "服务": [1, 0], "网络": [0, 1]}
    assert daily.option["xAxis"]["data"] == ["2026-10-20", "2026-10-21"]
    assert {s["name"]: s["data"] for s in daily.option["series"]} == {"中国联通": [3, 2], "中国电信": [1, 0]}


def test_figures_are_read_from_digits_and_chinese_numerals():
    assert [f.text for f in figures_in("联通那边58元就有30G流量")] == ["58元", "30G"]
    assert [f.text for f in figures_in("人家五十八块钱二十个G")] == ["58元", "20G"]
    assert [(f.kind, f.text) for f in figures_in("办宽带打八折，再送五百分钟，千兆的")] == [
        ("discount", "8折"), ("minutes", "500分钟"), ("speed", "1000M")]
    assert [f.text for f in figures_in("打七五折")] == ["7.5折"]
    assert [f.text for f in figures_in("电信一个月才五十九，5G信号也好")] == ["59元"]   # 5G is no data amount


def test_phone_number_like_digits_are_not_figures():
    assert [f.text for f in figures_in("联通客服13912345678说58元")] == ["58元"]
    assert figures_in("13912345678元") == []
    assert [f.text for f in figures_in("号码幺三九幺二三四五六七八，联通五十八块三十个G")] == ["58元", "30G"]
    assert figures_in("客服电话10086，2024，我打过") == []


def test_quoted_offers_come_from_the_mention_turn_and_the_next_customer_turn():
    call = records(make_call("q1", turns=[
        ("agent", "您好，请问有什么可以帮您？", 0.0, 2.0),
        ("customer", "我现在一个月128呢！联通那边58元就有30G流量。", 2.0, 6.0),
        ("agent", "您说的是哪个套餐？我们每月20块也有10G。", 6.0, 9.0),
        ("customer", "他们还说宽带打八折，号码13912345678。", 9.0, 12.0),
        ("customer", "再说吧，一个月99也行。", 12.0, 14.0),
    ], competitors=[mention(1, "中国联通", "price")]))[0]
    rows = quoted_offers(call)
    got = [(r["turn"], r["role"], r["brand"], r["kind"], r["figure"]) for r in rows]
    assert got == [(1, "customer", "中国联通", "price", "58元"), (1, "customer", "中国联通", "data", "30G"),
                   (3, "customer", "中国联通", "discount", "8折")]
    assert rows[0]["quote"] == "我现在一个月128呢！联通那边58元就有30G流量。"


def test_a_figure_goes_to_the_brand_named_last_before_it():
    call = records(make_call("q2", turns=[("customer", "联通58元，电信69元。", 0.0, 3.0)],
                             competitors=[mention(0, "中国联通", "price"), mention(0, "中国电信", "price")]))[0]
    assert [(r["brand"], r["figure"]) for r in quoted_offers(call)] == [("中国联通", "58元"), ("中国电信", "69元")]


def test_calls_to_listen_to_are_ranked_by_mentions_times_max_score():
    turns = [("agent", "您好。", 0.0, 1.0), ("customer", "联通58元有30G。", 1.0, 3.0),
             ("agent", "好的。", 3.0, 4.0), ("customer", "联通信号也好。", 4.0, 6.0)]
    calls = records(
        make_call("a", turns=turns, competitors=[mention(1, "中国联通", "price", 0.6), mention(3, "中国联通", "network", 0.5),
                                                  mention(1, "中国联通", "price", 0.4)]),          # 3 x 0.6 = 1.8
        make_call("b", turns=turns, competitors=[mention(1, "中国电信", "price", 0.95, "电信"),
                                                  mention(3, "中国电信", "price", 0.5, "电信")]),  # 1.9
        make_call("c", turns=turns, competitors=[mention(1, "中国移动", "product", 0.99, "移动")]),  # 0.99
        make_call("d", turns=turns, competitors=[mention(1, "中国联通", "service", 0.9),
                                                  mention(3, "中国联通", "service", 0.2)]),        # 2 x 0.9 = 1.8
        make_call("e", turns=turns),
    )
    listen = build_competitor_report(calls).table("listen").rows
    assert [r["call_id"] for r in listen] == ["b", "a", "d", "c"]
    assert [r["priority"] for r in listen] == [1.9, 1.8, 1.8, 0.99]
    assert listen[1]["reason"] == "3 mentions of 中国联通 (price/network), customer quoted 58元、30G"
    top = build_competitor_report(calls, settings={"competitors": {"listen_top": 2}}).table("listen").rows
    assert [r["call_id"] for r in top] == ["b", "a"]


def test_a_bad_figure_file_names_the_entry(tmp_path):
    bad = tmp_path / "figures.yaml"
    bad.write_text("figures:\n  - {kind: price, pattern: '{num}元', unit: 元}\n  - {kind: cost, pattern: x, unit: 元}\n",
                   encoding="utf-8")
    with pytest.raises(OfferFiguresError, match=r"figures\[1\]\.kind"):
        load_offer_figures(bad)
