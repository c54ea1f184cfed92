"""Models and algorithms, one package per capability; never imports gradio. The layers and where each kind of
change goes are described in the README's Architecture section (and checked by tests/unit/test_architecture.py)."""
