"""Your model. hypermax calls train(params) with one parameter set per trial.

Replace the body with your training code. Return the loss as a float, or a dict with the
metrics named in search.json ("accuracy" here); anything else in the dict is kept as metadata.
"""

import math


def train(params):
    # A stand-in for real training: accuracy peaks at learning_rate 0.01, 3 layers, gelu.
    distance = abs(math.log10(params["learning_rate"]) + 2) + abs(params["layers"] - 3) / 4
    accuracy = 0.95 * math.exp(-distance) + (0.04 if params["activation"] == "gelu" else 0.0)
    print(f"trained with {params}: accuracy {accuracy:.3f}")
    return {"accuracy": accuracy, "distance": distance}
