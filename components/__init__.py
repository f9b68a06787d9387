"""Custom Rasa NLU components.

Rasa imports this package whenever it loads config.yml's pipeline, so it is where this
project's changes to Rasa itself are installed, in every process that trains, tests or serves
the model: all of them are in runtime/rasa_patches.py.
"""

from runtime import rasa_patches

rasa_patches.install()
