"""The Gradio layer: only wiring.  Each tab is one module under ``components``."""
