"""The dashboard screens, one module each."""
