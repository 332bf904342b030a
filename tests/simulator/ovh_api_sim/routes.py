"""The /1.0 routes: each parses its request, calls the backend, and answers (lists and batch included)."""
from __future__ import annotations

import json
import time

from flask import request

from .auth import API
from .batch import batch_answer
from .errors import bad_request
from .query import list_answer
from .responses import json_response

SERVICE = API + "/email/exchange/<organizationName>/service/<exchangeService>"
LICENSES = ("basic", "enterprise", "standard")


def _body():
    """The parsed JSON body of a POST or PUT (GET and DELETE bodies are refused before routing)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise bad_request("The input that you provided isn't valid JSON or not well formatted") from None


def _query(allowed):
    unknown = sorted(set(request.args) - set(allowed))
    if unknown:
        raise bad_request(f"Unknown query parameter(s): {', '.join(unknown)}")
    return {name: request.args.get(name) for name in allowed}


def _long(value, name="id"):
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"Parameter {name} isn't formated correctly: {value!r} is not a long") from None


def register(app, backend, faults):
    """Add the /1.0 routes to `app`. Object lists and batch follow `faults.object_lists` and the readings."""
    be, readings = backend, backend.readings

    def listing(objects, key, family):
        data, headers = list_answer(objects, key, request.headers, readings, paged=family not in readings.unpaged_routes,
                                    object_lists=faults.object_lists)
        return json_response(data, headers=headers)

    def single(getter, key):
        separator = request.headers.get("X-Ovh-Batch")
        if not separator or not faults.object_lists or readings.no_batch:
            return json_response(getter(key))
        return json_response(batch_answer(getter, key, separator))

    @app.get(API + "/auth/time")
    def auth_time():
        return json_response(int(time.time()))

    @app.get(API + "/email/exchange")
    def organizations():
        _query(())
        return json_response(be.list_organizations())

    @app.get(API + "/email/exchange/<organizationName>/service")
    def services(organizationName):
        return json_response(be.list_services(organizationName))

    @app.get(SERVICE)
    def service(organizationName, exchangeService):
        return json_response(be.get_service(organizationName, exchangeService))

    @app.route(SERVICE + "/sendConnector", methods=["GET", "POST"])
    def connectors(organizationName, exchangeService):
        if request.method == "POST":
            return json_response(be.create_connector(organizationName, exchangeService, _body()))
        _query(())
        return listing(be.connectors(organizationName, exchangeService), "id", "sendConnector")

    @app.route(SERVICE + "/sendConnector/<id>", methods=["GET", "PUT", "DELETE"])
    def connector(organizationName, exchangeService, id):  # noqa: A002 - the schema's name
        if request.method == "GET":
            return single(lambda key: be.get_connector(organizationName, exchangeService, _long(key)), id)
        if request.method == "PUT":
            return json_response(be.update_connector(organizationName, exchangeService, _long(id), _body()))
        return json_response(be.delete_connector(organizationName, exchangeService, _long(id)))

    @app.post(SERVICE + "/sendConnector/<id>/changeAuthentication")
    def change_authentication(organizationName, exchangeService, id):  # noqa: A002
        return json_response(be.change_authentication(organizationName, exchangeService, _long(id), _body()))

    @app.get(SERVICE + "/account")
    def accounts(organizationName, exchangeService):
        filters = _query(("accountLicense", "company", "id", "primaryEmailAddress"))
        if filters["accountLicense"] is not None and filters["accountLicense"] not in LICENSES:
            raise bad_request(f"Query parameter accountLicense isn't formated correctly: {filters['accountLicense']!r}")
        return listing(be.account_objects(organizationName, exchangeService, filters), "primaryEmailAddress",
                       "account")

    @app.route(SERVICE + "/account/<primaryEmailAddress>", methods=["GET", "PUT"])
    def account(organizationName, exchangeService, primaryEmailAddress):
        if request.method == "GET":
            return single(lambda key: be.get_account(organizationName, exchangeService, key), primaryEmailAddress)
        return json_response(be.update_account(organizationName, exchangeService, primaryEmailAddress, _body()))

    @app.get(SERVICE + "/account/<primaryEmailAddress>/tasks")
    def account_tasks(organizationName, exchangeService, primaryEmailAddress):
        return json_response(be.account_tasks(organizationName, exchangeService, primaryEmailAddress))

    @app.get(SERVICE + "/account/<primaryEmailAddress>/tasks/<id>")
    def account_task(organizationName, exchangeService, primaryEmailAddress, id):  # noqa: A002
        return single(lambda key: be.account_task(organizationName, exchangeService, primaryEmailAddress,
                                                  _long(key)), id)

    @app.get(SERVICE + "/domain")
    def domains(organizationName, exchangeService):
        query = _query(("main", "state"))
        filters = {}
        if query["main"] is not None:
            if query["main"] not in ("true", "false"):
                raise bad_request("Query parameter main isn't formated correctly: expected true or false")
            filters["main"] = query["main"] == "true"
        if query["state"] is not None:
            filters["state"] = query["state"]
        return listing(be.domain_objects(organizationName, exchangeService, filters), "name", "domain")

    @app.get(SERVICE + "/domain/<domainName>")
    def domain(organizationName, exchangeService, domainName):
        return single(lambda key: be.get_domain(organizationName, exchangeService, key), domainName)

    @app.put(SERVICE + "/domain/<domainName>/changeDefaultSBR")
    def change_default_sbr(organizationName, exchangeService, domainName):
        return json_response(be.change_default_sbr(organizationName, exchangeService, domainName, _body()))

    @app.get(SERVICE + "/task")
    def tasks(organizationName, exchangeService):
        _query(())
        return listing(be.task_objects(organizationName, exchangeService), "id", "task")

    @app.get(SERVICE + "/task/<id>")
    def task(organizationName, exchangeService, id):  # noqa: A002
        return single(lambda key: be.get_task(organizationName, exchangeService, _long(key)), id)
