"""civicgrid: social governance for a megacity (多网合一、一网统管)."""

__version__ = "0.1.0"
