"""Simulation and fleet planning: realistic rural demand driven through the real dispatcher.

:mod:`simulation.places` reads a region's places and hubs from OSM, :mod:`simulation.generator` draws a
seeded day of demand from them, :mod:`simulation.demand_csv` reads and writes the shared demand CSV,
:mod:`simulation.fleet` makes the simulated buses, :mod:`simulation.engine` runs a day on a simulated
clock against :class:`dispatch.dispatcher.Dispatcher`, :mod:`simulation.kpis` computes the key figures,
:mod:`simulation.figures` and :mod:`simulation.report` draw the HTML report, :mod:`simulation.runner`
and :mod:`simulation.study` tie a region, a fleet, rules and demand together for ``rufbus simulate`` and
``rufbus sweep`` (:mod:`simulation.cli`), and :mod:`simulation.demo` drives a running service live.
"""
