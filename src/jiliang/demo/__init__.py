"""A synthetic but realistic city (演示市, 339900) for the demo and the benchmarks; deterministic per seed."""

from jiliang.demo.build import DemoAccount, DemoSummary, build_demo, demo_exists
from jiliang.demo.generate import DemoConfig

__all__ = ["DemoAccount", "DemoConfig", "DemoSummary", "build_demo", "demo_exists"]
