"""One-prompt anomaly inspection: engines, metrics, synthesis, and the inspector around them."""
