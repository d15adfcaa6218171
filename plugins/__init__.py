"""Built-in plugins, each registered in the ``qinglian.plugins`` entry-point group."""
