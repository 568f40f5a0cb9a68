"""lm_demo: show a class how a GPT-2-style model writes Spanish.

The package is plain Python (no Gradio outside ``lm_demo.ui``) so every
function can be used from a notebook.  Heavy libraries (torch, transformers)
are imported inside the modules that need them, never here, so that the app
starts fast.
"""

__all__ = ["__version__"]
__version__ = "0.1.0"
