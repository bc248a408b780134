"""`python -m welfare_sim ...` is the `welfare-sim` command."""

from welfare_sim.sim.cli import main

main()
