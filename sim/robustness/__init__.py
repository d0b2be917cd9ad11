"""When does it pay? A scenario's claims, their odds over the plausible worlds, where they flip.

- :mod:`~sim.robustness.claims`: the claim expression form, parsed and checked against a scenario
  (``sim.scenario`` calls it when a scenario states ``[[claims]]``);
- :mod:`~sim.robustness.margins`: a claim's margin in each run and world;
- :mod:`~sim.robustness.ranges`, :mod:`~sim.robustness.worlds`: robustness files, plausible
  ranges, and the worlds sampled from them or taken from a calibration posterior;
- :mod:`~sim.robustness.study`: a study as a sweep of the worlds, run on the sweep executors;
- :mod:`~sim.robustness.odds`, :mod:`~sim.robustness.importance`, :mod:`~sim.robustness.prim`,
  :mod:`~sim.robustness.verdicts`: Wilson odds, RBD-FAST indices, PRIM boxes, and the verdict in
  words;
- :mod:`~sim.robustness.report`, :mod:`~sim.robustness.figures`: the files and charts;
- :mod:`~sim.robustness.background`: studies on a thread of a long-lived process (the UI);
- :mod:`~sim.robustness.cli`: ``cxsim robustness``.

>>> from sim.robustness.study import plan_study, run_study
>>> from sim.robustness.report import analyze
>>> study = plan_study("proactive_disclosure", "experiments/robustness/ranges.toml")
>>> len(study.worlds), [c.name for c in study.claims][:1]
(192, ['warning_keeps_trust'])
>>> analysis = analyze(study, run_study(study, "results/robustness/x"))  # doctest: +SKIP
>>> [v.sentence() for v in analysis.verdicts]                            # doctest: +SKIP

This package stays light to import (``sim.scenario`` imports its claims module) and never
imports the UI.
"""
