"""The shape of the synthetic city: its regions, the kinds of owners and what they hold, the institutions.

Everything here is data. The numbers are plausible proportions for a Chinese prefecture-level city (most
instruments under compulsory verification are utility meters and market scales; hospitals hold many
blood-pressure meters; fuel dispensers are verified every six months), not statistics of a real place.

City code 99 is unused by GB/T 2260 in every province, so 339900 clashes with no real city.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jiliang.domain.catalogue import Use
from jiliang.domain.instruments import OrganisationKind

PROVINCE = ("330000", "浙江省", "Zhejiang Province")
DEMO_CITY = ("339900", "演示市", "Demo City")
# (suffix, zh, en, share of the city's instruments, how diligently owners keep verifications: 1 = best)
COUNTIES = (
    ("02", "东湖区", "Donghu District", 0.27, 1.0),
    ("03", "西山区", "Xishan District", 0.22, 0.9),
    ("21", "南溪县", "Nanxi County", 0.18, 0.8),
    ("22", "北岭县", "Beiling County", 0.16, 0.45),
    ("81", "青川市", "Qingchuan City (county-level)", 0.17, 0.85),
)
# Further synthetic cities for province-scale benchmarks (codes 3398xx downwards, also unused).
EXTRA_CITY_NAMES = ("示范", "样本", "试点", "模拟", "测试", "基准", "参照", "对照")

TRADE, SAFETY, MEDICAL, ENV, OTHER = (
    Use.TRADE_SETTLEMENT,
    Use.SAFETY_PROTECTION,
    Use.MEDICAL,
    Use.ENVIRONMENTAL_MONITORING,
    Use.OTHER,
)


@dataclass(frozen=True)
class Holding:
    """One kind of instrument an owner holds: item, relative weight, use, and sizes to draw from."""

    item_code: str
    weight: float
    use: Use
    other_share: float = 0.0  # share used outside the four compulsory uses (not under 强检)
    sizes: tuple[tuple[float, float], ...] = ()  # (nominal size, weight): DN, G, or accuracy class


@dataclass(frozen=True)
class Archetype:
    """A kind of owner: how many of the city's instruments it holds and how they are spread."""

    key: str
    kind: OrganisationKind
    share: float
    per_owner: int  # mean instruments per owner; "county"/"city" owners get the whole share
    holdings: tuple[Holding, ...]
    names: tuple[str, ...]
    one_per: str = ""  # "county" or "city": a utility, one per region
    diligence: float = 1.0
    manufacturers: tuple[str, ...] = field(default=("恒信", "华衡", "精诚", "远航", "正泰达", "东方计量"))


WATER_DN = ((15, 55), (20, 25), (25, 10), (40, 5), (50, 3), (80, 1.5), (100, 0.5))
GAS_G = ((1.6, 30), (2.5, 40), (4, 20), (6, 4), (10, 3), (16, 1.5), (25, 1), (40, 0.5))
POWER_CLASS = ((2.0, 70), (1.0, 25), (0.5, 3), (0.2, 2))

ARCHETYPES: tuple[Archetype, ...] = (
    Archetype(
        "market",
        OrganisationKind.MARKET_OPERATOR,
        0.22,
        120,
        (
            Holding("02.01", 80, TRADE),
            Holding("02.02", 8, TRADE),
            Holding("02.03", 4, TRADE),
            Holding("14.01", 8, TRADE),
        ),
        ("农贸市场", "菜市场", "水产市场", "果品批发市场", "综合集贸市场"),
        diligence=0.85,
    ),
    Archetype(
        "fuel",
        OrganisationKind.FUEL_STATION,
        0.05,
        14,
        (
            Holding("09.01", 60, TRADE),
            Holding("10.01", 4, TRADE),
            Holding("10.02", 4, TRADE),
            Holding("15.01", 20, SAFETY, other_share=0.1),
            Holding("11.02", 6, TRADE),
            Holding("38.01", 6, SAFETY),
        ),
        ("加油站", "加油加气站", "能源站"),
        diligence=1.1,
    ),
    Archetype(
        "hospital",
        OrganisationKind.HOSPITAL,
        0.08,
        300,
        (
            Holding("16.01", 22, MEDICAL),
            Holding("16.02", 25, MEDICAL),
            Holding("01.02", 15, MEDICAL),
            Holding("01.01", 5, MEDICAL),
            Holding("25.01", 8, MEDICAL),
            Holding("26.01", 12, MEDICAL),
            Holding("17.01", 1, MEDICAL),
            Holding("17.02", 2, MEDICAL),
            Holding("28.01", 1, MEDICAL),
            Holding("29.01", 2, MEDICAL),
            Holding("29.02", 1, MEDICAL),
            Holding("30.01", 1, MEDICAL),
            Holding("31.01", 1.5, MEDICAL),
            Holding("31.02", 1, MEDICAL),
            Holding("31.03", 0.5, MEDICAL),
            Holding("32.01", 0.3, MEDICAL),
            Holding("33.01", 0.3, MEDICAL),
            Holding("34.01", 0.5, SAFETY),
            Holding("15.01", 1, SAFETY),
            Holding("40.01", 0.5, MEDICAL),
        ),
        ("人民医院", "中医院", "妇幼保健院", "社区卫生服务中心", "中心卫生院"),
        diligence=1.1,
    ),
    Archetype(
        "water",
        OrganisationKind.UTILITY,
        0.18,
        0,
        (Holding("06.01", 1, TRADE, sizes=WATER_DN),),
        ("供水有限公司",),
        one_per="county",
    ),
    Archetype(
        "gas",
        OrganisationKind.UTILITY,
        0.11,
        0,
        (Holding("07.01", 1, TRADE, sizes=GAS_G),),
        ("燃气有限公司",),
        one_per="county",
    ),
    Archetype(
        "power",
        OrganisationKind.UTILITY,
        0.13,
        0,
        (
            Holding("20.01", 97, TRADE, sizes=POWER_CLASS),
            Holding("21.01", 2, TRADE),
            Holding("21.02", 1, TRADE),
        ),
        ("供电公司",),
        one_per="city",
    ),
    Archetype(
        "charging",
        OrganisationKind.ENTERPRISE,
        0.03,
        80,
        (Holding("22.01", 60, TRADE), Holding("22.02", 40, TRADE)),
        ("充电科技有限公司", "新能源服务有限公司"),
    ),
    Archetype(
        "enterprise",
        OrganisationKind.ENTERPRISE,
        0.12,
        40,
        (
            Holding("15.01", 35, SAFETY, other_share=0.15),
            Holding("38.01", 12, SAFETY),
            Holding("38.02", 5, SAFETY),
            Holding("38.03", 2, SAFETY),
            Holding("23.01", 6, SAFETY),
            Holding("24.01", 6, SAFETY),
            Holding("03.01", 1, TRADE),
            Holding("03.03", 1, TRADE),
            Holding("03.04", 2, TRADE, other_share=0.3),
            Holding("05.01", 4, TRADE),
            Holding("05.02", 3, TRADE),
            Holding("02.01", 8, TRADE, other_share=0.3),
            Holding("14.01", 3, TRADE, other_share=0.3),
            Holding("40.01", 3, ENV, other_share=0.4),
            Holding("27.01", 2, ENV),
            Holding("11.01", 1, TRADE),
            Holding("12.01", 1, TRADE),
        ),
        ("机械有限公司", "化工有限公司", "食品有限公司", "纺织有限公司", "建材有限公司", "电子有限公司"),
        diligence=0.9,
    ),
    Archetype(
        "grain",
        OrganisationKind.ENTERPRISE,
        0.01,
        20,
        (Holding("13.01", 30, TRADE), Holding("35.01", 40, TRADE), Holding("02.02", 30, TRADE)),
        ("粮食收储有限公司", "粮油购销公司"),
    ),
    Archetype(
        "taxi",
        OrganisationKind.ENTERPRISE,
        0.01,
        200,
        (Holding("18.01", 1, TRADE),),
        ("出租汽车有限公司",),
    ),
    Archetype(
        "police",
        OrganisationKind.GOVERNMENT,
        0.004,
        0,
        (Holding("19.01", 70, SAFETY), Holding("39.01", 30, SAFETY)),
        ("公安局交通警察大队",),
        one_per="county",
        diligence=1.2,
    ),
    Archetype(
        "inspection",
        OrganisationKind.ENTERPRISE,
        0.006,
        8,
        (Holding("36.01", 35, ENV), Holding("37.01", 45, ENV), Holding("27.01", 20, ENV)),
        ("机动车检测有限公司",),
    ),
)

# Name stems for owners (combined with the county name and a number they stay unique).
STEMS = (
    "东门", "南街", "新华", "人民", "城北", "望江", "和平", "解放", "文化", "建设", "光明", "红星",
    "青山", "绿水", "华夏", "天元", "金桥", "银河", "长安", "永丰", "兴业", "富民", "康宁", "同心",
)  # fmt: skip
ROADS = ("人民路", "解放路", "中山路", "环城路", "滨江路", "学院路", "工业路", "新华路")

# What an instrument of an item looks like on its ledger: (model prefix, measuring range, accuracy class).
LEDGER = {
    "01.01": ("ST", "(35–42) ℃", "±0.1 ℃"),
    "01.02": ("ET", "(32–43) ℃", "±0.1 ℃"),
    "02.01": ("ACS", "(0.1–30) kg", "Ⅲ"),
    "02.02": ("TGT", "(1–100) kg", "Ⅲ"),
    "02.03": ("GT", "(1–50) kg", "Ⅳ"),
    "03.01": ("DCS", "(1–100) t", "2"),
    "03.03": ("ICS", "(50–800) t/h", "0.5"),
    "03.04": ("DCS-F", "(5–50) kg", "X(1)"),
    "05.01": ("LWGY", "(1–60) m³/h", "0.5"),
    "05.02": ("LUGB", "(10–400) m³/h", "1.0"),
    "06.01": ("LXS", "Q3 2.5–100 m³/h", "2"),
    "07.01": ("G", "Qmax 2.5–65 m³/h", "1.5"),
    "09.01": ("CS", "(5–60) L/min", "0.3"),
    "10.01": ("LPG", "(5–60) kg/min", "1.0"),
    "10.02": ("CNG", "(2–30) kg/min", "1.0"),
    "11.01": ("LG", "2000 m³", "0.2"),
    "11.02": ("WG", "50 m³", "0.5"),
    "12.01": ("QGC", "30 m³", "0.5"),
    "13.01": ("HGT", "1 L", "±0.5 g/L"),
    "14.01": ("M1", "(1 g–20 kg)", "M1"),
    "15.01": ("Y-100", "(0–1.6) MPa", "1.6"),
    "16.01": ("XJ", "(0–300) mmHg", "±3 mmHg"),
    "16.02": ("HEM", "(0–299) mmHg", "±3 mmHg"),
    "17.01": ("SYJ", "(0–80) mmHg", "±1 mmHg"),
    "17.02": ("NCT", "(0–60) mmHg", "±2 mmHg"),
    "18.01": ("JJQ", "(0–9999) km", "±1 %"),
    "19.01": ("CSY", "(20–250) km/h", "±1 km/h"),
    "20.01": ("DDZY", "5(60) A", "2"),
    "21.01": ("LZZBJ", "(5–3000)/5 A", "0.2S"),
    "21.02": ("JDZX", "10 kV/100 V", "0.2"),
    "22.01": ("ACP", "7 kW", "2"),
    "22.02": ("DCP", "(200–750) V", "1"),
    "23.01": ("ZC-7", "(0–2500) MΩ", "10"),
    "24.01": ("ZC-8", "(0–1000) Ω", "3"),
    "25.01": ("ECG", "12 leads", "±5 %"),
    "26.01": ("MPM", "ECG/NIBP/SpO2", "±5 %"),
    "27.01": ("AWA", "(30–130) dB", "1"),
    "28.01": ("PTA", "(−10–120) dB HL", "±3 dB"),
    "29.01": ("RM", "(−25–+22) m⁻¹", "±0.25 m⁻¹"),
    "29.02": ("TL", "266 lenses", "±0.06 m⁻¹"),
    "30.01": ("JD", "(−25–+25) m⁻¹", "±0.06 m⁻¹"),
    "31.01": ("XR", "(40–150) kV", "±5 %"),
    "31.02": ("DR", "(40–150) kV", "±5 %"),
    "31.03": ("CT", "(80–140) kV", "±5 %"),
    "32.01": ("IC", "(0.01–100) Gy", "±3 %"),
    "33.01": ("CRC", "(0.1–200) GBq", "±10 %"),
    "34.01": ("BH", "(0.1 μSv/h–10 mSv/h)", "±15 %"),
    "35.01": ("LDS", "(5–35) %", "±0.5 %"),
    "36.01": ("YDJ", "(0–100) %", "±2 %"),
    "37.01": ("FGA", "CO/HC/CO2/O2/NO", "Ⅰ"),
    "38.01": ("GTQ", "(0–100) %LEL", "±5 %LEL"),
    "38.02": ("CO", "(0–1000) μmol/mol", "±10 %"),
    "38.03": ("H2S", "(0–100) μmol/mol", "±10 %"),
    "39.01": ("ALC", "(0–2) mg/L", "±0.03 mg/L"),
    "40.01": ("PHS", "(0–14) pH", "0.01"),
}


@dataclass(frozen=True)
class StandardSpec:
    """A social public measurement standard (社会公用计量标准) an institution holds."""

    name: str
    quantity: str
    items: tuple[str, ...]
    expires: str = "valid"  # "valid", "expiring" (within 90 days) or "expired"


# Items used in the city that deliberately have no standard, so 建标覆盖率 stays below 100 %:
# 17.02 non-contact tonometer, 28.01 audiometer, 31.03 CT, 32.01 dosimeter, 33.01 activity meter.
CITY_STANDARDS = (
    StandardSpec("电子秤检定装置", "质量", ("02.01", "02.02", "02.03")),
    StandardSpec("E2等级砝码标准装置", "质量", ("14.01", "02.01")),
    StandardSpec("燃油加油机检定装置", "体积", ("09.01",), "expiring"),
    StandardSpec("加气机检定装置", "质量流量", ("10.01", "10.02", "10.03")),
    StandardSpec("水表检定装置", "体积流量", ("06.01",)),
    StandardSpec("膜式燃气表检定装置", "体积流量", ("07.01",)),
    StandardSpec("液体流量标准装置", "体积流量", ("05.01", "05.02")),
    StandardSpec("活塞式压力计标准装置", "压力", ("15.01",)),
    StandardSpec("血压计标准装置", "压力", ("16.01", "16.02")),
    StandardSpec("体温计标准装置", "温度", ("01.01", "01.02")),
    StandardSpec("心电图仪检定装置", "电生理", ("25.01", "26.01"), "expiring"),
    StandardSpec("眼压计检定装置", "压力", ("17.01",)),
    StandardSpec("验光仪检定装置", "光学", ("29.01", "29.02", "30.01"), "expiring"),
    StandardSpec("医用诊断X射线辐射源检定装置", "电离辐射", ("31.01", "31.02", "34.01")),
    StandardSpec("出租汽车计价器检定装置", "长度", ("18.01",), "expiring"),
    StandardSpec("机动车测速仪检定装置", "速度", ("19.01",)),
    StandardSpec("电动汽车充电桩检定装置", "电能", ("22.01", "22.02")),
    StandardSpec("绝缘电阻表检定装置", "电阻", ("23.01", "24.01")),
    StandardSpec("声级计检定装置", "声学", ("27.01",)),
    StandardSpec("气体检测报警器检定装置", "化学", ("38.01", "38.02", "38.03")),
    StandardSpec("呼出气体酒精含量检测仪检定装置", "化学", ("39.01",)),
    StandardSpec("机动车排放检测仪检定装置", "化学", ("36.01", "37.01")),
    StandardSpec("酸度计检定装置", "化学", ("40.01",), "expired"),
    StandardSpec("计量罐容量检定装置", "体积", ("11.01", "11.02", "12.01")),
    StandardSpec("谷物容重器检定装置", "质量", ("13.01", "35.01")),
    StandardSpec("自动衡器检定装置", "质量", ("03.01", "03.03", "03.04")),
)
POWER_STANDARDS = (
    StandardSpec("电能表检定装置", "电能", ("20.01",)),
    StandardSpec("互感器检定装置", "电流、电压比", ("21.01", "21.02"), "expiring"),
)
COUNTY_STANDARDS = (
    StandardSpec("电子计价秤检定装置", "质量", ("02.01", "02.02", "14.01")),
    StandardSpec("燃油加油机检定装置", "体积", ("09.01",)),
    StandardSpec("血压计检定装置", "压力", ("16.01", "16.02")),
    StandardSpec("压力表检定装置", "压力", ("15.01",), "expiring"),
)
POWER_ITEMS = frozenset({"20.01", "21.01", "21.02"})
COUNTY_INSTITUTE_COUNTY = "81"  # 青川市 has its own 计量检定所
