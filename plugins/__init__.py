"""The built-in speechgan plugins, each loaded through the ``speechgan`` entry-point group."""
