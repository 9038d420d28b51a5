"""A training's hyperparameters and their defaults, apart from the aggregate: the command
line offers them as options without loading the event classes."""

HYPERPARAMETERS = {"rank": 8, "alpha": 32, "dropout": 0.05, "lr": 2e-4, "epochs": 1,
                   "max_steps": 0}  # max_steps 0: every example once per epoch
