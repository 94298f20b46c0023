"""Engine adapters: thin, shared by every loss, imported lazily (xgboost/lightgbm are extras)."""
