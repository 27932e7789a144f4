"""An API-server double for kubectl-seccomp's end-to-end tests.

Written from the Kubernetes API reference, independently of the plugin's client, so that the two
can check each other. Python's standard library only; pods run as real podman containers.
"""
