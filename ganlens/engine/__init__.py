"""The engine (orchestration): the plugin host, checkpoint and dataset resolution through it,
the analysis runner and the training loop. It sits above the kernel and the built-in extensions
and below the faces (the CLI and the ``ganlens`` package), which create the host and pass it down.
"""
