"""Models and algorithms. Never imports gradio; see DESIGN.md for the package map."""
