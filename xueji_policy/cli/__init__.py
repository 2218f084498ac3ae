"""The ``xueji-policy`` command line: one module per command, dispatched by ``main``."""
