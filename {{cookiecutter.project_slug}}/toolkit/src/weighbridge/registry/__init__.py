"""Model registry: GTO-grammar git tags over the project's DVC pipeline.

Reading (``store.load_registry``) needs only git; writing (``actions``) also
runs ``dvc status`` and, for gated stages, the pipeline's gate module.
"""
