# The lab's fixtures, for the integration tests on namespaces (test_ssh_lab.py).
from tests.lab.conftest import lab_base, lab_factory  # noqa: F401
