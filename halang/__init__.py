"""halang: HACMP/PowerHA-style clusters described, verified, compiled and deployed."""

__version__ = "0.1.0"
