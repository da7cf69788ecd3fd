"""The kernel: the GAN container, the capture pass, sections and reports as data, the analysis
context, the types extensions register, errors, and file, image and plotting helpers.

It imports nothing above it (only the leaves ``ganlens._version`` and ``ganlens.markers``).
Plugin authors reach it through the public modules listed in ARCHITECTURE.md, not directly.
"""
