# The antsibull-nox sessions configured in antsibull-nox.toml (`make nox`, or `nox` in a venv with antsibull-nox).
import antsibull_nox

antsibull_nox.load_antsibull_nox_toml()
