"""Simulation and fleet planning: realistic rural demand driven through the real dispatcher.

:mod:`simulation.places` reads a region's places and hubs from OSM, :mod:`simulation.generator` draws a
seeded day of demand from them, :mod:`simulation.demand_csv` reads and writes the shared demand CSV,
:mod:`simulation.engine` runs a day on a simulated clock against :class:`dispatch.dispatcher.Dispatcher`,
:mod:`simulation.kpis` computes the key figures, :mod:`simulation.report` draws the HTML report and
:mod:`simulation.runner` ties a region, a fleet, rules and demand together (``rufbus simulate``/``sweep``).
"""
