"""Random key energy-using units for the bulk engines' agreement tests (small, seeded)."""

from __future__ import annotations

import random

from jiliang.energy.review import Meter, Node, Topology
from jiliang.energy.rules import EnergyType as E
from jiliang.energy.rules import Level as L

KINDS = {
    E.ELECTRICITY: "electricity_meter",
    E.NATURAL_GAS: "gas_flowmeter",
    E.COAL: "weighing_dynamic",
    E.STEAM: "steam_flowmeter",
    E.WATER: "water_meter",
}
DEMAND = {  # (secondary, equipment) demands around the thresholds of 表1 / 表2
    E.ELECTRICITY: (10, 100),
    E.NATURAL_GAS: (10_000, 100),
    E.COAL: (100, 1),
    E.STEAM: (5000, 7),
    E.WATER: (5000, 1),
}


def unit(rng: random.Random, u: int) -> Topology:
    energies = rng.sample(list(KINDS), rng.randint(1, 3))
    nodes = [Node(f"u{u}", f"单位{u}", L.BOUNDARY, demand={e: rng.uniform(1e3, 1e5) for e in energies})]
    for i in range(rng.randint(0, 6)):
        parent = rng.choice([n.key for n in nodes if n.level is not L.EQUIPMENT])
        lvl = rng.choice([L.SECONDARY, L.EQUIPMENT])
        col = 0 if lvl is L.SECONDARY else 1
        demand = {e: DEMAND[e][col] * rng.choice([0.0, 0.5, 1.0, 3.0]) for e in rng.sample(energies, rng.randint(1, len(energies)))}
        points = {e: rng.randint(1, 3) for e in demand if rng.random() < 0.3}
        nodes.append(Node(f"u{u}n{i}", f"车间{i}", lvl, parent, demand=demand, supply_points=points))
    if rng.random() < 0.3:  # the boundary with two supply points of its first energy
        b = nodes[0]
        nodes[0] = Node(b.key, b.name, b.level, None, b.demand, {energies[0]: 2})
    meters = []
    for n in nodes:
        for e in energies:
            for _ in range(rng.choice([0, 1, 1, 1, 2])):
                meters.append(
                    Meter(
                        f"u{u}m{len(meters)}",
                        n.key,
                        e,
                        KINDS[e],
                        rng.choice([None, 0.5, 1.0, 2.0, 2.5, 3.0]),
                        rng.random() < 0.85,
                        rng.random() < 0.95,
                    )
                )
    return Topology(tuple(nodes), tuple(meters))


def units(n: int, seed: int = 13) -> list[Topology]:
    rng = random.Random(seed)
    return [unit(rng, u) for u in range(n)]
