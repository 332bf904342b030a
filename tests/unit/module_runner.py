"""Run a module's main() in-process with arguments, the way Ansible would, and read its JSON result."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json

import pytest

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19 has no public helper: the same thing, by the documented module args
    from contextlib import contextmanager
    from unittest import mock

    from ansible.module_utils.common.text.converters import to_bytes

    @contextmanager
    def patch_module_args(args):
        with mock.patch("ansible.module_utils.basic._ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args}))):
            yield


def run_module(module, args, capsys, check_mode=False):
    """(result dict, failed) of module.main() with `args`; stdout must hold exactly one JSON result."""
    with patch_module_args(dict(args, _ansible_check_mode=check_mode)):
        with pytest.raises(SystemExit) as exit_info:
            module.main()
    return module_result(capsys.readouterr().out), exit_info.value.code != 0


def module_result(stdout):
    """The result the controller shows, from a module's raw stdout.

    ansible-core 2.22 modules also return their no_log values as `_ansible_new_secrets`, for the controller
    to mask them in later output; the controller removes that key before anything is displayed or
    registered, so it is not part of what a user sees.
    """
    result = json.loads(stdout)
    result.pop("_ansible_new_secrets", None)
    return result
