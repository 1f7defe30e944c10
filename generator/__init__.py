"""campaign-microsite: a static-site generator for school-district campaign microsites."""

__version__ = "0.1.0"
