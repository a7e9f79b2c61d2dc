"""Genre classifiers: `registry.py` (ClassifierSpec; built-ins and `percmusic.classifiers`
entry points) and one module per classifier, each defining `SPEC`."""
