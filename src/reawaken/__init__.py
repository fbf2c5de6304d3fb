"""reawaken: respiratory viral infections, IL-6 and the awakening of dormant lung DCCs."""

__version__ = "0.1.0"
__all__ = ["__version__"]
