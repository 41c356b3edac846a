"""Checks before a run (``glmv-agent doctor``) and the device list (``glmv-agent devices``)."""
