"""A local stand-in for the Coursera and OpenClassrooms APIs.

No machine here reaches the real providers, so lo-sync's tests, demo and
benchmarks run against this simulator: a real HTTP server on 127.0.0.1 that
follows `shared/provider-apis.md` strictly, serves deterministic data of any
size (generated per page, never held in memory), can play "the next night"
(`day=2`) and can misbehave on demand (`Fault`).

    from lo_sync.simulator import Simulator, SimulatorConfig, Fault

    with Simulator(SimulatorConfig(coursera_contents=50)) as sim:
        urls = sim.provider_urls()
        sim.set_faults([Fault.parse("rate_limit:every=3")])
"""

from lo_sync.simulator.data import CREDENTIALS, SimulatorConfig
from lo_sync.simulator.faults import FAULT_KINDS, Fault, parse_faults
from lo_sync.simulator.server import Simulator, serve_forever

__all__ = [
    "CREDENTIALS",
    "FAULT_KINDS",
    "Fault",
    "Simulator",
    "SimulatorConfig",
    "parse_faults",
    "serve_forever",
]
