"""Street addresses with a Shanghai lane (弄), a road section (段), unit and room numbers, planted into real
clinical paragraphs (CCKS 2017, CMB-Clin, ChatMed-Consult from ../shared/data): leaks per form.

    .venv/bin/python bench/bench_deid_addresses.py

An address leaks when any of its numbers (house, lane, section, unit, room) is still in the de-identified text.
"""

from __future__ import annotations

import random
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cmedins.deid.engine import Deidentifier  # noqa: E402
from tests.support.plant_identities import host_texts, insert_sentence  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
CITIES = (("上海市", "浦东新区"), ("上海市", "徐汇区"), ("成都市", "武侯区"), ("台北市", "大安区"), ("北京市", "朝阳区"),
          ("杭州市", "西湖区"), ("南京市", "鼓楼区"), ("重庆市", "渝中区"))
ROADS = ("张江路", "人民南路", "忠孝东路", "建国路", "文三路", "中山路", "解放碑路", "长乐路")
CN_DIGIT = "一二三四五六七八九"
FORMS = {
    "lane": lambda r: f"{r.randint(1, 999)}弄{r.randint(1, 60)}号",
    "lane_room": lambda r: f"{r.randint(1, 999)}弄{r.randint(1, 60)}号{r.randint(101, 2505)}室",
    "unit_room": lambda r: f"{r.randint(1, 300)}号{r.randint(1, 6)}单元{r.randint(101, 2505)}室",
    "section": lambda r: f"{r.choice(CN_DIGIT)}段{r.randint(1, 300)}号",
    "building_room": lambda r: f"{r.randint(1, 300)}号{r.randint(1, 30)}栋{r.randint(101, 2505)}室",
}
LABELS = ("住址：{a}", "家住{a}。", "Address: {a}", "现住{a}，", "户籍地址：{a}")


def _left(number: str, out: str) -> bool:
    """Is a number of the address still in the output, beside its unit word?"""
    return bool(re.search(rf"(?<!\d){re.escape(number)}(?!\d)(?=[弄号段栋单室])|{re.escape(number)}(?=\d*号)", out))


def main() -> None:
    rng = random.Random(13)
    hosts = host_texts(DATA)
    rng.shuffle(hosts)
    items = []
    for n, (_source, host) in enumerate(hosts[:1500]):
        form = list(FORMS)[n % len(FORMS)]
        city, district = rng.choice(CITIES)
        address = f"{city}{district}{rng.choice(ROADS)}{FORMS[form](rng)}"
        planted = rng.choice(LABELS).format(a=address)
        text = insert_sentence(host, planted)
        items.append((form, text, re.findall(r"\d+|[一二三四五六七八九]段", address)))
    outputs = Deidentifier().deidentify_many([text for _, text, _ in items], [""] * len(items))
    leaks, total = Counter(), Counter()
    for (form, _text, numbers), (out, _) in zip(items, outputs, strict=True):
        total[form] += 1
        leaked = any(_left(number, out) for number in numbers)
        leaks[form] += leaked
        if leaked and "-v" in sys.argv:
            print("LEAK", form, out[max(0, out.find("<地址>") - 20):out.find("<地址>") + 30].replace("\n", " "))
    for form in FORMS:
        print(f"{form:16s} {leaks[form]:3d} / {total[form]}")
    print("ALL", sum(leaks.values()), "/", sum(total.values()))


if __name__ == "__main__":
    main()
