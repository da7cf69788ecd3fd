"""The built-in extensions: architectures, named datasets, dataset file formats, checkpoint
loaders, feature spaces (with the classifier behind one of them) and report writers.

Each module is a plugin registered through the same hooks a third-party plugin implements; they
import only the kernel (:mod:`ganlens.core`) and the markers, never the engine above them.
"""
