"""Codes of the failure analysis: what the cluster does when components fail."""
