"""Build-time code: what made the anomaly data and checkpoints (never imported by the running app).

CLI: `python -m backend.anomaly.offline.cli {synth,heldout,train,report}`.
"""
