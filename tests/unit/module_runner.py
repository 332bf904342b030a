"""Run a module's main() in-process with arguments, the way Ansible would, and read its JSON result."""
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
    result = json.loads(capsys.readouterr().out)
    return result, exit_info.value.code != 0
