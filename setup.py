"""Build-time mapping only (everything else, package data included, is in pyproject.toml): the wheel carries the repository's
cards/ and pipelines/ inside the package as cmedins/cards and cmedins/pipelines (see cmedins/runner/resources.py)."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["cmedins", "cmedins.*"]), "cmedins.cards", "cmedins.pipelines"],
    package_dir={"cmedins.cards": "cards", "cmedins.pipelines": "pipelines"},
)
