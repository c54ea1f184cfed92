"""The learned SVG generator: path codec, diffusion transformer, sampler, engine, few-shot styles.

Kept import-free on purpose: `backend.svg.offline.train` (torch + numpy only) must run on a bare GPU box, so
importing this package must not pull in the app's dependencies.
"""
