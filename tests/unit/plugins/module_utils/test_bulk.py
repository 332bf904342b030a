"""_bulk.py: each read strategy and each fallback, with the exact requests expected."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import threading
from urllib.parse import quote

import pytest

from ansible_collections.ovhcloud.exchange.plugins.module_utils import _bulk
from ansible_collections.ovhcloud.exchange.plugins.module_utils._errors import OvhApiError
from ansible_collections.ovhcloud.exchange.tests.unit.plugins.module_utils.scripted_http import (
    BASE, BATCH, cursor, expect, fake_client, paged, plain_ids)


def account(address, connector=0):
    return {"primaryEmailAddress": address, "sendConnectorId": connector, "taskPendingId": 0}


def read_accounts(client, **kwargs):
    return _bulk.list_objects(client, BASE + "/account", lambda key: BASE + "/account/" + quote(key, safe=""),
                              key="primaryEmailAddress", **kwargs)


def test_object_list_in_one_request():
    objects = [account("a@x.ovh"), account("b@x.ovh", 7)]
    client, sdk = fake_client([
        expect("GET", "/account", objects, headers=paged(), response_headers={"X-Pagination-Elements": "2"}),
    ])
    assert read_accounts(client) == (objects, "object_list")
    sdk.assert_done()
    assert client.api_calls()["total"] == 1


def test_object_list_pages_until_the_element_count():
    objects = [account("u%d@x.ovh" % n) for n in range(5)]
    count = {"X-Pagination-Elements": "5"}
    client, sdk = fake_client([
        expect("GET", "/account", objects[0:2], headers=paged(1, 2), response_headers=count),
        expect("GET", "/account", objects[2:4], headers=paged(2, 2), response_headers=count),
        expect("GET", "/account", objects[4:5], headers=paged(3, 2), response_headers=count),
    ])
    assert read_accounts(client, page_size=2) == (objects, "object_list")
    sdk.assert_done()


def test_object_list_without_count_stops_on_a_short_page_and_follows_the_echoed_size():
    objects = [account("u%d@x.ovh" % n) for n in range(3)]
    client, sdk = fake_client([
        # The gateway caps the page size at 2 and says so.
        expect("GET", "/account", objects[0:2], headers=paged(1, 1000), response_headers={"X-Pagination-Size": "2"}),
        expect("GET", "/account", objects[2:3], headers=paged(2, 1000), response_headers={"X-Pagination-Size": "2"}),
    ])
    assert read_accounts(client, page_size=1000) == (objects, "object_list")
    sdk.assert_done()


def test_filter_goes_to_the_gateway_as_a_header():
    bound = [account("b@x.ovh", 7)]
    client, sdk = fake_client([
        expect("GET", "/account", bound, headers=paged(filters="sendConnectorId:eq=7&configured:eq=true"),
               response_headers={"X-Pagination-Elements": "1"}),
    ])
    objects, strategy = read_accounts(client, filters=[("sendConnectorId", "eq", 7), ("configured", "eq", True)])
    assert strategy == "object_list"
    assert objects == []  # the fake objects have no `configured` field: the filter is also checked locally
    sdk.assert_done()


def test_pages_end_by_the_element_count_when_the_gateway_serves_smaller_pages_without_saying_so():
    # Asked for 5000 a page, served 2, and no X-Pagination-Size echoed: only the total tells where the list ends.
    objects = [account("u%d@x.ovh" % n) for n in range(5)]
    count = {"X-Pagination-Elements": "5"}
    client, sdk = fake_client([
        expect("GET", "/account", objects[0:2], headers=paged(1), response_headers=count),
        expect("GET", "/account", objects[2:4], headers=paged(2), response_headers=count),
        expect("GET", "/account", objects[4:5], headers=paged(3), response_headers=count),
    ])
    assert read_accounts(client) == (objects, "object_list")
    sdk.assert_done()


def test_filters_in_the_managers_syntax_joined_by_ampersands():
    client, sdk = fake_client([
        expect("GET", "/account", [], headers=paged(
            filters="sendConnectorId:ne=0&state:in=ok,suspended&lastName:isnil=1&primaryEmailAddress:like=news%")),
    ])
    filters = [("sendConnectorId", "ne", 0), ("state", "in", ["ok", "suspended"]), ("lastName", "isnil", True),
               ("primaryEmailAddress", "like", "news%")]
    assert read_accounts(client, filters=filters) == ([], "object_list")
    sdk.assert_done()


def test_cursor_fallback_when_pages_are_ignored_and_the_mode_is_remembered():
    objects = [account("u%d@x.ovh" % n) for n in range(3)]
    modes = {}
    client, sdk = fake_client([
        # The paged mode is ignored (plain ids), the cursor mode is served: two cursor pages.
        expect("GET", "/account", ["u0@x.ovh", "u1@x.ovh", "u2@x.ovh"], headers=paged(filters="sendConnectorId:eq=0")),
        expect("GET", "/account", objects[0:2], headers=cursor(filters="sendConnectorId:eq=0"),
               response_headers={"X-Pagination-Cursor-Next": "c2"}),
        expect("GET", "/account", objects[2:3], headers=cursor(filters="sendConnectorId:eq=0", at="c2")),
        # The next read of that route goes straight to cursors.
        expect("GET", "/account", objects[1:2], headers=cursor(), response_headers={}),
    ])
    filters = [("sendConnectorId", "eq", 0)]
    assert read_accounts(client, filters=filters, modes=modes) == (objects, "cursor")
    assert read_accounts(client, only=["u1@x.ovh"], modes=modes) == ([objects[1]], "cursor")
    sdk.assert_done()


def test_plain_ids_and_refused_batches_are_remembered_for_the_run():
    modes = {}
    refused = {"message": "Invalid path"}
    client, sdk = fake_client([
        *plain_ids("/account", ["a@x.ovh", "b@x.ovh"]),
        expect("GET", "/account/a%40x.ovh,b%40x.ovh", refused, status=400, headers=BATCH),
        expect("GET", "/account/a%40x.ovh", account("a@x.ovh")),
        expect("GET", "/account/b%40x.ovh", account("b@x.ovh")),
        # Second read: the plain list (no object mode tried again), then single GETs (no batch tried again).
        expect("GET", "/account", ["a@x.ovh", "b@x.ovh"]),
        expect("GET", "/account/a%40x.ovh", account("a@x.ovh")),
        expect("GET", "/account/b%40x.ovh", account("b@x.ovh")),
    ])
    for dummy in range(2):
        assert read_accounts(client, parallel=1, modes=modes) == ([account("a@x.ovh"), account("b@x.ovh")], "single")
    sdk.assert_done()


def test_a_few_wanted_mailboxes_are_asked_for_by_name():
    wanted = [account("a@x.ovh"), account("b@x.ovh", 7)]
    client, sdk = fake_client([
        expect("GET", "/account", wanted, headers=paged(filters="primaryEmailAddress:in=a@x.ovh,b@x.ovh"),
               response_headers={"X-Pagination-Elements": "2"}),
        expect("GET", "/account", wanted[:1], headers=paged(filters="primaryEmailAddress:eq=a@x.ovh"),
               response_headers={"X-Pagination-Elements": "1"}),
    ])
    assert read_accounts(client, only=["b@x.ovh", "a@x.ovh"], narrow=True) == (wanted, "object_list")
    assert read_accounts(client, only=["a@x.ovh"], narrow=True) == (wanted[:1], "object_list")
    sdk.assert_done()


def test_a_wanted_mailbox_missing_from_the_narrowed_answer_is_looked_for_in_the_whole_list():
    # The gateway may compare with case: B@x.ovh is not `in` b@x.ovh for it, but is for the collection.
    every = [account("a@x.ovh"), account("B@x.ovh", 7), account("c@x.ovh")]
    client, sdk = fake_client([
        expect("GET", "/account", every[:1], headers=paged(filters="primaryEmailAddress:in=a@x.ovh,b@x.ovh"),
               response_headers={"X-Pagination-Elements": "1"}),
        expect("GET", "/account", every, headers=paged(), response_headers={"X-Pagination-Elements": "3"}),
    ])
    assert read_accounts(client, only=["a@x.ovh", "b@x.ovh"], narrow=True) == (every[:2], "object_list")
    sdk.assert_done()


def test_many_or_unusual_keys_are_not_sent_as_a_filter():
    many = ["u%d@x.ovh" % n for n in range(_bulk.IN_FILTER_MAX + 1)]
    client, sdk = fake_client([
        expect("GET", "/account", [], headers=paged()),
        expect("GET", "/account", [], headers=paged()),
    ])
    read_accounts(client, only=many, narrow=True)
    read_accounts(client, only=["a,b@x.ovh", "c@x.ovh"], narrow=True)  # a `,` would split the `in` list
    sdk.assert_done()


def test_plain_ids_fall_back_to_batch_gets_of_only_the_wanted_keys():
    client, sdk = fake_client([
        *plain_ids("/account", ["a@x.ovh", "B@x.ovh", "c@x.ovh", "d@x.ovh"]),
        expect("GET", "/account/B%40x.ovh,c%40x.ovh", [account("B@x.ovh", 7), account("c@x.ovh")], headers=BATCH),
    ])
    objects, strategy = read_accounts(client, only=["b@x.ovh", "c@x.ovh", "zz@x.ovh"])
    assert strategy == "batch"
    assert [o["primaryEmailAddress"] for o in objects] == ["B@x.ovh", "c@x.ovh"]
    sdk.assert_done()


def test_batch_gets_are_chunked_and_key_value_entries_unwrapped():
    client, sdk = fake_client([
        *plain_ids("/account", ["a@x.ovh", "b@x.ovh", "c@x.ovh"]),
        expect("GET", "/account/a%40x.ovh,b%40x.ovh",
               [{"key": "a@x.ovh", "value": account("a@x.ovh")}, {"key": "b@x.ovh", "value": None, "error": "gone"}],
               headers=BATCH),
        expect("GET", "/account/c%40x.ovh", account("c@x.ovh", 7), headers=BATCH),
    ])
    objects, strategy = read_accounts(client, batch_size=2)
    assert strategy == "batch"
    assert objects == [account("a@x.ovh"), account("c@x.ovh", 7)]
    sdk.assert_done()


def test_plain_ids_with_a_filter_are_filtered_locally():
    client, sdk = fake_client([
        *plain_ids("/account", ["a@x.ovh", "b@x.ovh"], filters="sendConnectorId:eq=7"),
        expect("GET", "/account/a%40x.ovh,b%40x.ovh", [account("a@x.ovh"), account("b@x.ovh", 7)], headers=BATCH),
    ])
    objects, strategy = read_accounts(client, filters=[("sendConnectorId", "eq", 7)])
    assert (objects, strategy) == ([account("b@x.ovh", 7)], "batch")
    sdk.assert_done()


@pytest.mark.parametrize("refusal", [
    dict(status=404, answer={"message": "The requested object (primaryEmailAddress = a@x.ovh,b@x.ovh) does not exist"}),
    dict(status=400, answer={"message": "Invalid path"}),
    dict(status=200, answer={"primaryEmailAddress": "a@x.ovh"}),  # one object for two keys: batch ignored
])
def test_batch_refused_falls_back_to_single_gets(refusal):
    client, sdk = fake_client([
        *plain_ids("/account", ["a@x.ovh", "b@x.ovh", "gone@x.ovh"]),
        expect("GET", "/account/a%40x.ovh,b%40x.ovh,gone%40x.ovh", headers=BATCH, **refusal),
        expect("GET", "/account/a%40x.ovh", account("a@x.ovh")),
        expect("GET", "/account/b%40x.ovh", account("b@x.ovh", 7)),
        # Deleted between the id list and its read: not an error, just not there.
        expect("GET", "/account/gone%40x.ovh", {"message": "The requested object does not exist"}, status=404),
    ])
    objects, strategy = read_accounts(client, parallel=1)
    assert (objects, strategy) == ([account("a@x.ovh"), account("b@x.ovh", 7)], "single")
    sdk.assert_done()


def test_single_get_errors_other_than_not_found_are_raised():
    client, sdk = fake_client([
        expect("GET", "/account", ["a@x.ovh"], headers=paged()),
        # One key: a plain GET, no batch attempt.
        expect("GET", "/account/a%40x.ovh", {"message": "This call has not been granted"}, status=403),
    ])
    with pytest.raises(OvhApiError) as raised:
        read_accounts(client, parallel=1)
    assert raised.value.kind == "forbidden"
    sdk.assert_done()


def test_a_forbidden_batch_is_raised_not_retried_one_by_one():
    client, sdk = fake_client([
        *plain_ids("/account", ["a@x.ovh", "b@x.ovh"]),
        expect("GET", "/account/a%40x.ovh,b%40x.ovh", {"message": "This call has not been granted"}, status=403,
               headers=BATCH),
    ])
    with pytest.raises(OvhApiError, match="not allowed"):
        read_accounts(client)
    sdk.assert_done()


def test_nothing_wanted_reads_nothing_and_empty_lists_end_at_once():
    client, sdk = fake_client([expect("GET", "/account", [], headers=paged())])
    assert read_accounts(client, only=[]) == ([], "object_list")
    assert read_accounts(client) == ([], "object_list")
    sdk.assert_done()


def test_only_needs_a_key_field():
    client, dummy = fake_client([])
    with pytest.raises(ValueError, match="key"):
        _bulk.list_objects(client, BASE + "/account", str, only=["a@x.ovh"])


def test_run_parallel_reports_every_outcome_in_order():
    def work(item):
        if item % 3 == 0:
            raise OvhApiError("PUT /account/%d: conflict" % item, kind="conflict")
        return item * 10

    outcomes = _bulk.run_parallel(work, range(1, 8), parallel=3)
    assert [o.item for o in outcomes] == list(range(1, 8))
    assert [o.value for o in outcomes if o.ok] == [10, 20, 40, 50, 70]
    assert [(o.item, o.message) for o in outcomes if not o.ok] == [
        (3, "PUT /account/3: conflict"), (6, "PUT /account/6: conflict")]


def test_run_parallel_runs_exactly_parallel_calls_at_once():
    parallel = 4
    barrier = threading.Barrier(parallel, timeout=30)  # breaks if fewer than 4 calls ever run together
    running = []
    peak = []
    lock = threading.Lock()

    def work(item):
        with lock:
            running.append(item)
            peak.append(len(running))
        barrier.wait()
        with lock:
            running.remove(item)
        return item

    outcomes = _bulk.run_parallel(work, range(12), parallel=parallel)
    assert all(o.ok for o in outcomes), [o.message for o in outcomes]
    assert max(peak) == parallel


def test_get_objects_reads_known_keys_in_batches():
    client, sdk = fake_client([
        expect("GET", "/task/7,8", [{"key": "7", "value": {"id": 7, "status": "done"}, "error": None},
                                    {"key": "8", "value": None, "error": "The requested object (id = 8) does not exist"}],
               headers=BATCH),
        expect("GET", "/task/9", {"id": 9, "status": "doing"}),
    ])

    def task_path(key):
        return BASE + "/task/" + str(key)

    assert _bulk.get_objects(client, task_path, [7, 8]) == ([{"id": 7, "status": "done"}], "batch")
    assert _bulk.get_objects(client, task_path, [9]) == ([{"id": 9, "status": "doing"}], "single")
    assert _bulk.get_objects(client, task_path, []) == ([], "batch")
    sdk.assert_done()


@pytest.mark.parametrize("filters, header, kept", [
    ([("sendConnectorId", "ne", 0)], "sendConnectorId:ne=0", ["b@x.ovh"]),
    ([("primaryEmailAddress", "in", ["a@x.ovh", "c@x.ovh"])], "primaryEmailAddress:in=a@x.ovh,c@x.ovh", ["a@x.ovh"]),
    ([("taskPendingId", "isnil", True)], "taskPendingId:isnil=1", []),
    ([("primaryEmailAddress", "like", "B%")], "primaryEmailAddress:like=B%", ["b@x.ovh"]),
    ([("sendConnectorId", "gt", 0), ("sendConnectorId", "lt", 8)], "sendConnectorId:gt=0&sendConnectorId:lt=8", ["b@x.ovh"]),
])
def test_filters_are_sent_in_the_manager_syntax_and_checked_locally(filters, header, kept):
    """OVH's control panel syntax: field:operator=value joined with &; a gateway that ignores them is filtered here."""
    client, sdk = fake_client([
        expect("GET", "/account", [account("a@x.ovh"), account("b@x.ovh", 7)], headers=paged(filters=header),
               response_headers={"X-Pagination-Elements": "2"}),
    ])
    objects, dummy = read_accounts(client, filters=filters)
    assert [obj["primaryEmailAddress"] for obj in objects] == kept
    sdk.assert_done()


def test_run_parallel_stops_starting_items_after_a_stopping_error():
    started = []

    def work(item):
        started.append(item)
        if item == 2:
            raise OvhApiError("PUT /account/2: not allowed", kind="forbidden")
        return item

    outcomes = _bulk.run_parallel(work, range(1, 7), parallel=1, stop=lambda error: error.kind == "forbidden")
    assert started == [1, 2]
    assert [(o.item, o.ok, o.attempted) for o in outcomes] == [
        (1, True, True), (2, False, True), (3, True, False), (4, True, False), (5, True, False), (6, True, False)]


def test_run_parallel_starts_nothing_once_cancelled():
    cancelled = threading.Event()
    cancelled.set()
    outcomes = _bulk.run_parallel(lambda item: item, range(3), cancelled=cancelled)
    assert [o.attempted for o in outcomes] == [False, False, False]
