"""voceunica: one voice in Brussels for Regione Lombardia and Regione del Veneto.

Data flows one way: load → validate → resolve → render → write.
"""

__version__ = "0.1.0"
