"""chatref: grounded chat over an organisation's documents, built to run on Azure."""

__version__ = "0.1.0"
