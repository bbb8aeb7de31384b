"""General instructions in alpaca format: knowledge, writing and code items from the pool, plus arithmetic
word problems with worked steps (numbers drawn per row, answers computed, so every answer is right)."""

from __future__ import annotations

import random
from collections.abc import Callable

from cmedins.sample.pools import load_pool

Alpaca = dict[str, str]


def general_item(rng: random.Random, *, reasoning_share: float = 0.3) -> Alpaca:
    if rng.random() < reasoning_share:
        return rng.choice(REASONING)(rng)
    item = rng.choice(load_pool("general")["items"])
    return {"instruction": item["instruction"], "input": item["input"], "output": item["output"]}


def _sales(rng: random.Random) -> Alpaca:
    a, b = rng.randint(20, 90), rng.randint(3, 30)
    tuesday, wednesday = a + b, 2 * (a + b)
    total = a + tuesday + wednesday
    return _worked(f"一家药店周一卖出{a}盒口罩，周二比周一多卖{b}盒，周三卖出的是周二的2倍。三天一共卖出多少盒？",
                   f"周二卖出{a}+{b}={tuesday}盒；周三卖出{tuesday}×2={wednesday}盒；"
                   f"三天共{a}+{tuesday}+{wednesday}={total}盒。", f"{total}盒")


def _change(rng: random.Random) -> Alpaca:
    count, price = rng.randint(2, 6), rng.randint(3, 12)
    money = count * price + rng.randint(1, 40)
    spent = count * price
    return _worked(f"小明有{money}元钱，买了{count}本笔记本，每本{price}元，还剩多少元？",
                   f"笔记本共花{count}×{price}={spent}元；剩下{money}-{spent}={money - spent}元。",
                   f"{money - spent}元")


def _path_area(rng: random.Random) -> Alpaca:
    length, width = rng.randint(6, 20), rng.randint(3, 10)
    outer, inner = (length + 2) * (width + 2), length * width
    return _worked(f"一个长方形花坛长{length}米，宽{width}米，四周铺一圈宽1米的小路，小路的面积是多少平方米？",
                   f"加上小路后的大长方形长{length + 2}米、宽{width + 2}米，面积为{outer}平方米；"
                   f"花坛面积{length}×{width}={inner}平方米；小路面积{outer}-{inner}={outer - inner}平方米。",
                   f"{outer - inner}平方米")


def _worked(question: str, steps: str, answer: str) -> Alpaca:
    return {"instruction": question, "input": "", "output": f"{steps}\n答：{answer}。"}


REASONING: tuple[Callable[[random.Random], Alpaca], ...] = (_sales, _change, _path_area)
