"""Photo 3D editing: select an object, lift it with depth, move it in 3D, composite honestly.

Entry points: `pipeline.Edit3DPipeline` (components), `service` (caching, registry, history),
`edit` (CLI: python -m backend.edit3d.edit --help).
"""
