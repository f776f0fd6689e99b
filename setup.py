"""Packaging glue pyproject.toml cannot say: the repo's top-level ``tasks/`` folder ships as
``modgap_eval/_builtin_tasks`` in the wheel, so an installed package finds its built-in tasks
from any working directory while the checkout keeps ``tasks/`` at the top level."""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["modgap_eval*"]) + ["modgap_eval._builtin_tasks"],
    package_dir={"modgap_eval._builtin_tasks": "tasks"},
)
