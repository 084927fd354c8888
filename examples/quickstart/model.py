"""A random forest on scikit-learn's breast cancer data set, scored by 3-fold cross-validation."""

from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import cross_val_score

FEATURES, LABELS = load_breast_cancer(return_X_y=True)


def train(params):
    model = RandomForestClassifier(random_state=0, n_jobs=1, **params)
    scores = cross_val_score(model, FEATURES, LABELS, cv=3)
    return {"accuracy": float(scores.mean()), "accuracy_std": float(scores.std())}
