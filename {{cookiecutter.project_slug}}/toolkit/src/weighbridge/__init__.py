"""weighbridge: the model lifecycle toolkit of a Git + DVC project.

The same bytes in every project: it learns a project's specifics only from the project's
declared files (``dvc.yaml`` artifacts, ``params.yaml``, ``data/schema.yaml``, ``.gto``),
and never imports the project's own package.
"""

__version__ = "0.2.0"
