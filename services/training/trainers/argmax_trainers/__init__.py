"""Argmax's built-in trainers (xgboost, linear): a workload the training service's runners start.

See ../README.md for the job contract every trainer follows.
"""
