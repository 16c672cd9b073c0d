"""Checks on the SAMR 2020 No. 42 catalogue data (实施强制管理的计量器具目录).

Only the csv module and pathlib are used, so the data can be checked without
importing the jiliang package.
"""

import csv
import datetime
import itertools
from collections import defaultdict
from pathlib import Path

import pytest

DATA = Path(__file__).parents[1] / "src/jiliang/data/catalogue"
ITEMS_FILE = DATA / "samr-2020-42-items.csv"
RULES_FILE = DATA / "samr-2020-42-rules.csv"

ITEM_COLUMNS = [
    "version",
    "level1_no",
    "level1_zh",
    "level1_en",
    "item_code",
    "level2_zh",
    "level2_en",
    "mode",
    "effective_from",
    "evidence",
    "source",
    "notes",
]
RULE_COLUMNS = [
    "item_code",
    "size_parameter",
    "size_min_exclusive",
    "size_max_inclusive",
    "form",
    "period_months",
    "service_life_months",
    "regulation",
    "evidence",
    "source",
    "notes",
]
MODES = {"P", "V", "P+V"}
FORMS = {"", "periodic", "until_failure", "rotation"}
EVIDENCE = {"confirmed", "provisional"}
INF = float("inf")


def _read(path):
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = [dict(zip(header, row, strict=False)) for row in reader]
    return header, rows


@pytest.fixture(scope="module")
def items():
    return _read(ITEMS_FILE)


@pytest.fixture(scope="module")
def rules():
    return _read(RULES_FILE)


@pytest.fixture(scope="module")
def rules_by_item(rules):
    grouped = defaultdict(list)
    for row in rules[1]:
        grouped[row["item_code"]].append(row)
    return grouped


def _items_named(items, level1_zh):
    found = [row for row in items[1] if row["level1_zh"] == level1_zh]
    assert found, f"no item with level1_zh {level1_zh}"
    return found


def _bounds(rule):
    lo = float(rule["size_min_exclusive"]) if rule["size_min_exclusive"] else -INF
    hi = float(rule["size_max_inclusive"]) if rule["size_max_inclusive"] else INF
    return lo, hi


def _rule_for_size(rules, size):
    hits = [r for r in rules if _bounds(r)[0] < size <= _bounds(r)[1]]
    assert len(hits) == 1, f"{len(hits)} rules match size {size}"
    return hits[0]


# --- structure -----------------------------------------------------------


def test_item_header(items):
    assert items[0] == ITEM_COLUMNS


def test_rule_header(rules):
    assert rules[0] == RULE_COLUMNS


def test_rows_have_all_fields(items, rules):
    for header, rows in (items, rules):
        for row in rows:
            assert len(row) == len(header), row


def test_version(items):
    assert {row["version"] for row in items[1]} == {"SAMR-2020-42"}


def test_forty_first_level_items(items):
    numbers = {int(row["level1_no"]) for row in items[1]}
    assert numbers == set(range(1, 41))


def test_sixty_two_second_level_items(items):
    assert len(items[1]) == 62


def test_first_level_names_consistent(items):
    names = defaultdict(set)
    for row in items[1]:
        names[row["level1_no"]].add((row["level1_zh"], row["level1_en"]))
    for number, pairs in names.items():
        assert len(pairs) == 1, (number, pairs)
    zh_names = [next(iter(p))[0] for p in names.values()]
    assert len(zh_names) == len(set(zh_names))


def test_item_codes_unique_and_consistent(items):
    codes = [row["item_code"] for row in items[1]]
    assert len(codes) == len(set(codes))
    seconds = defaultdict(list)
    for row in items[1]:
        nn, mm = row["item_code"].split(".")
        assert len(nn) == 2 and len(mm) == 2, row["item_code"]
        assert int(nn) == int(row["level1_no"]), row["item_code"]
        seconds[int(nn)].append(int(mm))
    for nn, mms in seconds.items():
        assert sorted(mms) == list(range(1, len(mms) + 1)), (nn, mms)


def test_unsplit_items_have_one_row(items):
    counts = defaultdict(int)
    for row in items[1]:
        counts[row["level1_no"]] += 1
    for row in items[1]:
        if row["level2_zh"] == row["level1_zh"]:
            assert counts[row["level1_no"]] == 1, row["item_code"]
            assert row["item_code"].endswith(".01")


def test_modes(items):
    for row in items[1]:
        assert row["mode"] in MODES, row["item_code"]


def test_names_not_empty(items):
    for row in items[1]:
        for column in ("level1_zh", "level1_en", "level2_zh", "level2_en"):
            assert row[column].strip(), (row["item_code"], column)


def test_effective_dates_parse(items):
    for row in items[1]:
        date = datetime.date.fromisoformat(row["effective_from"])
        assert date >= datetime.date(2020, 10, 26), row["item_code"]


def test_evidence_values_and_sources(items, rules):
    for rows in (items[1], rules[1]):
        for row in rows:
            assert row["evidence"] in EVIDENCE, row
            if row["evidence"] == "confirmed":
                assert row["source"].startswith(("http://", "https://")), row
            else:
                assert row["source"] == "", row


# --- rules ---------------------------------------------------------------


def test_rules_refer_to_items(items, rules):
    codes = {row["item_code"] for row in items[1]}
    for row in rules[1]:
        assert row["item_code"] in codes, row["item_code"]


def test_every_item_has_a_rule(items, rules_by_item):
    for row in items[1]:
        assert rules_by_item[row["item_code"]], row["item_code"]


def test_forms_and_months(rules):
    for row in rules[1]:
        form = row["form"]
        assert form in FORMS, row
        period = row["period_months"]
        life = row["service_life_months"]
        if form == "periodic":
            assert int(period) > 0 and life == "", row
        elif form == "rotation":
            assert int(life) > 0 and period == "", row
        else:  # until_failure, or P-only (empty form)
            assert period == "" and life == "", row


def test_mode_matches_forms(items, rules_by_item):
    for item in items[1]:
        forms = {r["form"] for r in rules_by_item[item["item_code"]]}
        if item["mode"] in {"V", "P+V"}:
            assert "" not in forms, item["item_code"]
        else:
            assert forms == {""}, item["item_code"]
            assert len(rules_by_item[item["item_code"]]) == 1


def test_size_ranges(rules_by_item):
    for code, rules in rules_by_item.items():
        params = {r["size_parameter"] for r in rules}
        assert len(params) == 1, (code, params)
        if params == {""}:
            assert len(rules) == 1, code
            assert rules[0]["size_min_exclusive"] == ""
            assert rules[0]["size_max_inclusive"] == ""
            continue
        bounds = sorted(_bounds(r) for r in rules)
        for lo, hi in bounds:
            assert lo < hi, (code, lo, hi)
        assert bounds[0][0] == -INF, code
        assert bounds[-1][1] == INF, code
        for (_, hi), (lo, _) in itertools.pairwise(bounds):
            assert hi == lo, (code, "gap or overlap", hi, lo)


# --- published examples --------------------------------------------------


def test_water_meter(items, rules_by_item):
    (item,) = _items_named(items, "水表")
    rules = rules_by_item[item["item_code"]]
    assert {r["size_parameter"] for r in rules} == {"DN"}
    assert all(r["regulation"] == "JJG 162-2019" for r in rules)
    for dn in (15, 20, 25):
        rule = _rule_for_size(rules, dn)
        assert (rule["form"], rule["service_life_months"]) == ("rotation", "72")
    for dn in (32, 40, 50):
        rule = _rule_for_size(rules, dn)
        assert (rule["form"], rule["service_life_months"]) == ("rotation", "48")
    for dn in (65, 80, 300):
        rule = _rule_for_size(rules, dn)
        assert (rule["form"], rule["period_months"]) == ("periodic", "24")


def test_gas_meter(items, rules_by_item):
    (item,) = _items_named(items, "燃气表")
    rules = rules_by_item[item["item_code"]]
    assert {r["size_parameter"] for r in rules} == {"G"}
    for g in (1.6, 2.5, 4, 6, 10, 16):
        rule = _rule_for_size(rules, g)
        assert rule["form"] == "rotation"
        assert rule["service_life_months"] == "120"
        assert rule["regulation"].startswith("JJG 577")


def test_ev_chargers(items, rules_by_item):
    rows = _items_named(items, "电动汽车充电桩")
    regulations = set()
    for item in rows:
        assert item["mode"] == "V"
        assert item["effective_from"] == "2023-01-01"
        for rule in rules_by_item[item["item_code"]]:
            assert rule["form"] == "periodic"
            regulations.add(rule["regulation"].split("-")[0])
    assert {"JJG 1148", "JJG 1149"} <= regulations


def test_vehicle_speed_meter(items, rules_by_item):
    rows = _items_named(items, "机动车测速仪")
    for item in rows:
        assert item["mode"] == "P+V"
        forms = {r["form"] for r in rules_by_item[item["item_code"]]}
        assert forms == {"periodic"}


def test_other_effective_dates_are_the_announcement_date(items):
    for row in items[1]:
        if row["level1_zh"] != "电动汽车充电桩":
            assert row["effective_from"] == "2020-10-26", row["item_code"]
